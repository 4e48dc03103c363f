// Checks deploy/k8s/strata.yaml: every document against Kubernetes' own OpenAPI schema (the npm package
// kubernetes-models validates with ajv), then what the schema cannot see: selectors match pod labels, the
// headless Service names the StatefulSet, the router's backend list names exactly the StatefulSet's pods,
// probes use /health, and the router reads the ConfigMap it mounts.
// usage: node check_k8s_manifest.mjs MANIFEST   (NODE_PATH: a node_modules with kubernetes-models and yaml)
// Exit 77 (CTest's skip) when those packages are missing.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = (process.env.NODE_PATH || "").split(":").filter(Boolean).map((d) => path.resolve(d));
// kubernetes-models exports ES modules by file ("kubernetes-models/apps/v1/StatefulSet.js"); yaml by its package.
const resolve = (name) => {
  for (const dir of modules) {
    if (existsSync(path.join(dir, name + ".js"))) return pathToFileURL(path.join(dir, name + ".js")).href;
    try {
      return pathToFileURL(createRequire(path.join(dir, "noop.js")).resolve(name)).href;
    } catch {}
  }
  return null;
};
if (!resolve("yaml") || !resolve("kubernetes-models/apps/v1/StatefulSet")) {
  console.log("SKIP: npm packages kubernetes-models and yaml not installed (run scripts/setup.sh)");
  process.exit(77);
}
const YAML = await import(resolve("yaml"));
const models = {
  "apps/v1/StatefulSet": "kubernetes-models/apps/v1/StatefulSet",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/PersistentVolumeClaim": "kubernetes-models/v1/PersistentVolumeClaim",
};

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const docs = YAML.parseAllDocuments(readFileSync(process.argv[2], "utf8"));
const objects = [];
for (const doc of docs) {
  if (doc.errors.length) failures.push(`YAML: ${doc.errors[0].message}`);
  const obj = doc.toJS();
  if (!obj) continue;
  const key = `${obj.apiVersion}/${obj.kind}`;
  const module = models[key];
  if (!module) {
    failures.push(`${key} ${obj.metadata?.name}: no schema for this kind in the check`);
    continue;
  }
  const Model = Object.values(await import(resolve(module))).find((v) => typeof v === "function");
  try {
    new Model(obj).validate();
  } catch (e) {
    failures.push(`${key} ${obj.metadata?.name}: ${e.message}`);
  }
  objects.push(obj);
}

const find = (kind, name) => objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));
const matches = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);
const sts = find("StatefulSet");
const deploy = find("Deployment");
check(sts && deploy, "a StatefulSet (servers) and a Deployment (router)");
if (sts && deploy) {
  const headless = find("Service", sts.spec.serviceName);
  check(headless?.spec.clusterIP === "None", `the StatefulSet's serviceName ${sts.spec.serviceName} is a headless Service`);
  check(matches(headless?.spec.selector, sts.spec.template.metadata.labels), "the headless Service selects the server pods");
  for (const w of [sts, deploy]) {
    check(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${w.metadata.name}: selector matches its pod labels`);
    for (const c of w.spec.template.spec.containers) {
      check(c.readinessProbe?.httpGet?.path === "/health", `${w.metadata.name}/${c.name}: readiness probe on /health`);
      check(c.livenessProbe, `${w.metadata.name}/${c.name}: a liveness probe`);
    }
  }
  const routerService = objects.find((o) => o.kind === "Service" && o !== headless && matches(o.spec.selector, deploy.spec.template.metadata.labels));
  check(routerService, "a Service selects the router pods");
  check(!matches(routerService?.spec.selector, sts.spec.template.metadata.labels), "the router Service does not select server pods");

  // The router's backends: --backend flags or the --backends-file in a mounted ConfigMap.
  const args = deploy.spec.template.spec.containers[0].args;
  check(args[0] === "router", "the router container runs `strata router`");
  let urls = args.filter((a, i) => args[i - 1] === "--backend");
  const fileArg = args[args.indexOf("--backends-file") + 1];
  if (args.includes("--backends-file")) {
    const mount = deploy.spec.template.spec.containers[0].volumeMounts.find((m) => fileArg.startsWith(m.mountPath + "/"));
    const volume = deploy.spec.template.spec.volumes.find((v) => v.name === mount?.name);
    const cm = find("ConfigMap", volume?.configMap?.name);
    const text = cm?.data?.[path.basename(fileArg)];
    check(text, `--backends-file ${fileArg} is a key of a mounted ConfigMap`);
    urls = (text || "").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  }
  const port = headless?.spec.ports[0].port;
  const expected = Array.from({ length: sts.spec.replicas }, (_, i) => `http://${sts.metadata.name}-${i}.${sts.spec.serviceName}:${port}`);
  check(JSON.stringify(urls) === JSON.stringify(expected), `router backends ${JSON.stringify(urls)} are the StatefulSet pods ${JSON.stringify(expected)}`);
}

if (failures.length) {
  console.log("deploy/k8s manifest problems:\n  " + failures.join("\n  "));
  process.exit(1);
}
console.log(`${objects.length} objects valid against the Kubernetes schemas; the router lists the ${sts.spec.replicas} server pods`);
