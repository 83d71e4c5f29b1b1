#!/bin/sh
# Starts Debian's clickhouse-server (18.16) configured like the official image:
# listens on every interface, a user CLICKHOUSE_USER with CLICKHOUSE_PASSWORD
# allowed from any address (the compose network), database CLICKHOUSE_DB.
# The configuration is written at every start, so a changed password applies.
set -eu
user="${CLICKHOUSE_USER:-default}"
password="${CLICKHOUSE_PASSWORD:-}"
db="${CLICKHOUSE_DB:-default}"
case "$user$db" in *[!A-Za-z0-9_]*) echo "clickhouse-entrypoint: user and database must be plain names" >&2; exit 2 ;; esac
xml_escape() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
mkdir -p /var/lib/clickhouse/data /var/lib/clickhouse/tmp /var/lib/clickhouse/user_files /var/lib/clickhouse/format_schemas
cat >/etc/clickhouse-server/sagaflow-config.xml <<EOF
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>8123</http_port>
  <tcp_port>9000</tcp_port>
  <listen_host>0.0.0.0</listen_host>
  <path>/var/lib/clickhouse/</path>
  <tmp_path>/var/lib/clickhouse/tmp/</tmp_path>
  <user_files_path>/var/lib/clickhouse/user_files/</user_files_path>
  <format_schema_path>/var/lib/clickhouse/format_schemas/</format_schema_path>
  <users_config>/etc/clickhouse-server/sagaflow-users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
cat >/etc/clickhouse-server/sagaflow-users.xml <<EOF
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <$user>
      <password>$(xml_escape "$password")</password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile><quota>default</quota>
    </$user>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
# The database is created once the server answers (sagaflow also creates it).
(
  for _ in $(seq 120); do
    if clickhouse-client --user "$user" --password "$password" --query "CREATE DATABASE IF NOT EXISTS $db" 2>/dev/null; then
      exit 0
    fi
    sleep 0.5
  done
  echo "clickhouse-entrypoint: could not create database $db" >&2
) &
exec clickhouse-server --config-file=/etc/clickhouse-server/sagaflow-config.xml
