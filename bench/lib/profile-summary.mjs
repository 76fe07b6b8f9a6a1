import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function shortUrl(url) {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  if (path.startsWith(ROOT)) return path.slice(ROOT.length + 1);
  return path;
}

/**
 * Self time per function of the largest `.cpuprofile` in `dir` (V8's --cpu-prof output; serve
 * writes two, its supervisor's and its relay process's, and the relay's is the busy one):
 * the time the sampler found each function on top of the stack, summed over its nodes.
 * Percentages are of the busy time (idle excluded); also totals by package.
 */
export function summarizeProfile(dir, top = 25) {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, a)).size - statSync(join(dir, b)).size);
  if (files.length === 0) return { error: `no .cpuprofile in ${dir}` };
  const file = join(dir, files[files.length - 1]);
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  const functions = new Map();
  const packages = new Map();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = shortUrl(url);
    const key = `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const pkg = where.startsWith('dist/') ? where.split('/').slice(0, 2).join('/') : where.includes('/') ? where.split('/')[0].startsWith('@') ? where.split('/').slice(0, 2).join('/') : where.split('/')[0] : where || functionName;
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const rank = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    file,
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    topFunctions: rank(functions, top),
    byPackage: rank(packages, 15),
  };
}

// `node bench/lib/profile-summary.mjs <dir>` prints the summary of a profile directory.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const summary = summarizeProfile(process.argv[2], Number(process.argv[3] ?? 30));
  console.log(JSON.stringify(summary, null, 2));
}
