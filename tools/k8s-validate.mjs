// Validates Kubernetes objects offline against the Kubernetes OpenAPI schemas
// (npm kubernetes-models, and @kubernetes-models/prometheus-operator for
// ServiceMonitor). Reads a JSON array of {source, object} from stdin, prints one
// line per object ("ok <source> <kind>/<name>" or "invalid <source> ...: why")
// and exits 1 when any is invalid or of an unknown kind.
// Usage: node tools/k8s-validate.mjs TOOLS_PREFIX < objects.json
// (TOOLS_PREFIX is where tools/install-k8s-tools.sh put node_modules.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const prefix = process.argv[2];
if (!prefix) {
    console.error('usage: node k8s-validate.mjs TOOLS_PREFIX < objects.json');
    process.exit(2);
}
const modules = join(prefix, 'node_modules');

// apiVersion -> module holding its classes
function modulePath(apiVersion) {
    if (apiVersion.startsWith('monitoring.coreos.com/'))
        return join(modules, '@kubernetes-models/prometheus-operator', apiVersion, 'index.js');
    return join(modules, 'kubernetes-models', apiVersion, 'index.js');
}

const items = JSON.parse(readFileSync(0, 'utf8'));
let bad = 0;
for (const { source, object } of items) {
    const what = `${source} ${object?.kind}/${object?.metadata?.name}`;
    try {
        if (!object || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string')
            throw new Error('no apiVersion or kind');
        let mod;
        try {
            mod = await import(pathToFileURL(modulePath(object.apiVersion)).href);
        } catch (e) {
            throw new Error(`unknown apiVersion ${object.apiVersion}`);
        }
        const Kind = mod[object.kind];
        if (typeof Kind !== 'function')
            throw new Error(`unknown kind ${object.kind} in ${object.apiVersion}`);
        new Kind(object).validate();
        console.log(`ok ${what}`);
    } catch (e) {
        bad++;
        console.log(`invalid ${what}: ${String(e.message).split('\n').join('; ')}`);
    }
}
process.exit(bad ? 1 : 0);
