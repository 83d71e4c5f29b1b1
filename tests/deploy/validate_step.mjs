// The deployments' validate step (docs/deploy.md), checked by
// k8s_manifests_test.mjs: `check(cond, msg)` records a failure; `podSpec` and
// `containerEnv` are that test's (the pod spec of an object, and a container's
// variables as the kubelet builds them from the rendered objects).

// `sagaflow validate` runs before every consumer: an init container of each
// pod that runs `run`, with the settings run has (every variable of run's
// that validate reads, the same value) and the model mounted where run has it.
export function checkValidateStep(name, objects, validateVars, { check, podSpec, containerEnv }) {
  for (const o of objects) {
    const spec = podSpec(o);
    const run = spec && spec.containers.find((c) => c.args[0] === "run");
    if (!run) continue;
    const where = `${name}: ${o.kind} ${o.metadata.name}`;
    const init = (spec.initContainers || []).find((c) => c.args[0] === "validate");
    check(init, `${where}: no init container runs \`sagaflow validate\` before run`);
    if (!init || !validateVars) continue;
    const runEnv = containerEnv(objects, run), initEnv = containerEnv(objects, init);
    for (const [k, v] of Object.entries(runEnv)) {
      if (validateVars.has(k)) check(initEnv[k] === v, `${where}: validate's ${k} is ${initEnv[k]}, run's ${v}`);
    }
    check(runEnv.SAGAFLOW_SOURCE && initEnv.SAGAFLOW_SOURCE, `${where}: validate checks no source`);
    for (const m of run.volumeMounts || []) {
      check((init.volumeMounts || []).some((x) => x.name === m.name && x.mountPath === m.mountPath),
        `${where}: validate lacks run's volume ${m.name} at ${m.mountPath}`);
    }
  }
}

// compose: a `validate` one-shot with run's settings, which run waits for.
export function checkComposeValidateStep(compose, validateVars, check) {
  const where = "deploy/compose/compose.yaml";
  const v = compose.services.validate, run = compose.services.run;
  check(v && v.command && v.command[0] === "validate", `${where}: no validate service running \`sagaflow validate\``);
  check(run.depends_on && run.depends_on.validate && run.depends_on.validate.condition === "service_completed_successfully",
    `${where}: run does not wait for validate to complete successfully`);
  if (!v || !validateVars) return;
  for (const k of Object.keys(v.environment || {})) {
    check(!k.startsWith("SAGAFLOW_") || validateVars.has(k), `${where}: validate's ${k} is not read by \`sagaflow validate\``);
  }
  for (const [k, value] of Object.entries(run.environment)) {
    if (validateVars.has(k)) check(v.environment[k] === value, `${where}: validate's ${k} differs from run's`);
  }
}
