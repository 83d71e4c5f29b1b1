#!/usr/bin/python3
"""The replicated and sharded compose variant, checked offline (issue 13 item 4).

    /usr/bin/python3 tests/deploy/compose_cluster_config_test.py SOURCE_DIR

deploy/compose/compose.cluster.yaml overrides compose.yaml with ZooKeeper and
three more ClickHouse servers; deploy/compose/cluster/cluster.xml names them
in `remote_servers` and takes each node's macros from its environment. The
live cluster is tested by src/kafka/kafka_clickhouse_cluster_test (servers
started by scripts/clickhouse-test-cluster); what only the compose files can
get wrong is checked here, on the files as compose merges them:

1. every service's `environment` is a mapping or a list (an empty key is null,
   which compose refuses);
2. every host of the cluster and of the ZooKeeper section is a service;
3. the nodes' macros: every replica of a shard has that shard's CH_SHARD,
   shards differ, CH_REPLICA is the node's own service name (it is also the
   interserver host its peers fetch parts from), no two nodes share one;
4. every node mounts cluster.xml into config.d, has the login the cluster's
   replicas use (CLICKHOUSE_USER, CLICKHOUSE_PASSWORD) and its own data volume,
   declared;
5. `migrate` and `run` address the store with `cluster=NAME` of the cluster
   defined, and `migrate` (its ON CLUSTER statements wait for every node)
   starts after every node is healthy.
Exit 0 passed, 1 failed.
"""
import os
import sys
import xml.etree.ElementTree as ET

import yaml

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)


def merge(base, override):
    """Compose's merge, as far as these files use it: mappings merge key by
    key, `volumes` lists add the entries whose target is new."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif key == "volumes" and isinstance(value, list) and isinstance(out.get(key), list):
            targets = {v.split(":")[1] for v in out[key] if isinstance(v, str) and ":" in v}
            out[key] = out[key] + [v for v in value if v.split(":")[1] not in targets]
        else:
            out[key] = value
    return out


def env(service):
    e = service.get("environment") or {}
    if isinstance(e, list):
        e = dict(item.split("=", 1) if "=" in item else (item, "") for item in e)
    return e


def main():
    compose_dir = os.path.join(sys.argv[1], "deploy", "compose")
    files = [os.path.join(compose_dir, n) for n in ("compose.yaml", "compose.cluster.yaml")]
    docs = []
    for path in files:
        with open(path) as f:
            doc = yaml.safe_load(f)
        for name, service in doc["services"].items():
            if "environment" in service:
                check(isinstance(service["environment"], (dict, list)),
                      f"{os.path.basename(path)}: services.{name}.environment is "
                      f"{type(service['environment']).__name__}, not a mapping or list")
        docs.append(doc)
    services = {}
    for doc in docs:
        for name, service in doc["services"].items():
            services[name] = merge(services.get(name, {}), service)
    volumes = set()
    for doc in docs:
        volumes |= set((doc.get("volumes") or {}).keys())

    root = ET.parse(os.path.join(compose_dir, "cluster", "cluster.xml")).getroot()
    clusters = list(root.find("remote_servers"))
    check(len(clusters) == 1, f"cluster.xml defines {len(clusters)} clusters, expected one")
    cluster = clusters[0]
    shards = cluster.findall("shard")
    check(len(shards) >= 2 and all(len(s.findall("replica")) >= 2 for s in shards),
          "cluster.xml: expected at least 2 shards of at least 2 replicas")
    for node in root.iter("node"):
        host = node.findtext("host")
        check(host in services, f"cluster.xml: ZooKeeper host {host} is not a compose service")
    macros = root.find("macros")
    check(macros is not None and macros.find("shard").get("from_env") == "CH_SHARD"
          and macros.find("replica").get("from_env") == "CH_REPLICA",
          "cluster.xml: macros must come from CH_SHARD and CH_REPLICA")
    check(root.find("interserver_http_host").get("from_env") == "CH_REPLICA",
          "cluster.xml: interserver_http_host must come from CH_REPLICA")

    shard_ids = []
    replica_ids = set()
    nodes = []
    for i, shard in enumerate(shards, 1):
        ids = set()
        for replica in shard.findall("replica"):
            host = replica.findtext("host")
            nodes.append(host)
            if host not in services:
                check(False, f"cluster.xml: shard {i} host {host} is not a compose service")
                continue
            s = services[host]
            e = env(s)
            ids.add(e.get("CH_SHARD"))
            check(e.get("CH_REPLICA") == host, f"{host}: CH_REPLICA is {e.get('CH_REPLICA')!r}, not its service name")
            check(e.get("CH_REPLICA") not in replica_ids, f"{host}: CH_REPLICA {e.get('CH_REPLICA')} is used twice")
            replica_ids.add(e.get("CH_REPLICA"))
            for var in ("CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"):
                check(var in e, f"{host}: no {var} (the cluster's replicas log in with it)")
            mounts = [v for v in s.get("volumes", []) if isinstance(v, str)]
            check(any(v.split(":")[1] == "/etc/clickhouse-server/config.d/cluster.xml" and
                      v.split(":")[0].endswith("cluster/cluster.xml") for v in mounts),
                  f"{host}: does not mount cluster/cluster.xml into config.d")
            data = [v.split(":")[0] for v in mounts if v.split(":")[1] == "/var/lib/clickhouse"]
            check(len(data) == 1 and data[0] in volumes, f"{host}: data volume {data} is not one declared volume")
        check(len(ids) == 1 and None not in ids, f"cluster.xml shard {i}: its replicas have CH_SHARD {sorted(map(str, ids))}")
        shard_ids.extend(ids)
    check(len(shard_ids) == len(set(shard_ids)), f"shards share a CH_SHARD: {shard_ids}")
    datas = [v.split(":")[0] for n in nodes if n in services for v in services[n].get("volumes", [])
             if isinstance(v, str) and v.split(":")[1] == "/var/lib/clickhouse"]
    check(len(datas) == len(set(datas)), f"nodes share a data volume: {datas}")

    for name in ("migrate", "run"):
        store = env(services.get(name, {})).get("SAGAFLOW_STORE", "")
        check(f"cluster={cluster.tag}" in store, f"{name}: SAGAFLOW_STORE {store!r} does not name cluster={cluster.tag}")
    waits = services.get("migrate", {}).get("depends_on", {})
    for n in nodes:
        check(isinstance(waits, dict) and waits.get(n, {}).get("condition") == "service_healthy",
              f"migrate does not wait for {n} to be healthy")

    if failures:
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        return 1
    print(f"PASS: cluster {cluster.tag}: {len(shards)} shards, {len(nodes)} nodes, "
          f"{len(services)} services as compose merges them", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
