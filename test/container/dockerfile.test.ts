/**
 * The Dockerfile, checked without a Docker engine: the base image's Node major matches
 * package.json, every COPY source exists in the repository and survives .dockerignore (or is what
 * the build stage produces), the entrypoint is the CLI, the user is non-root and the one the
 * Kubernetes pods run as, the exposed port and the health check match the hub.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { containersOf, hubRoutes, obj, preStopSeconds, ROOT } from '../k8s/helpers.js';
import { type K8sObject, podSpecOf, render } from '../k8s/kustomize.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (continuations joined, comments dropped) and stages. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // Comments and blank lines, also inside a continuation, are no part of an instruction.
    if (line.startsWith('#') || line === '') continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      logical.push(current + line);
      current = '';
    }
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      assert.ok(match, `FROM ${instruction.args}`);
      const image = (match[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => args.get(name) ?? '');
      stages.push({ name: match[2], image, instructions: [] });
    } else if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = instruction.args.split('=', 2);
      args.set(name, value);
    } else {
      const stage = stages.at(-1);
      assert.ok(stage, `${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** `COPY [--from=X] src... dest` as its parts. */
function parseCopy(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const dest = words.pop();
  assert.ok(dest && words.length > 0, `COPY ${args}`);
  return { from, sources: words, dest };
}

/** An exec-form (JSON array) instruction argument. */
function execForm(args: string): string[] {
  const value = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(value) && value.every((v) => typeof v === 'string'), `exec form: ${args}`);
  return value as string[];
}

/** .dockerignore patterns as a matcher (Go filepath.Match plus `**`, with `!` exceptions). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, '')).replace(/\/+$/, '');
      const regex = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '(?:.*)'
            : part
                .replace(/[.+^${}()|\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, regex: new RegExp(`^${regex}(?:/.*)?$`) };
    });
  return (path: string) => {
    let excluded = false;
    for (const rule of rules) if (rule.regex.test(path)) excluded = !rule.negate;
    return excluded;
  };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  bin: Record<string, string>;
  workspaces: string[];
};
const runtime = dockerfile.stages.at(-1) as Stage;
/** Files a clone would have: tracked ones, and new ones not ignored (before they are committed). */
const trackedFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);
const baseHub = render(join(ROOT, 'k8s', 'base')).find(
  (o) => o.kind === 'Deployment' && containersOf(o).some((c) => c.name === 'hub'),
) as K8sObject;

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

function workdir(stage: Stage): string {
  const dirs = stage.instructions.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args);
  return dirs.at(-1) ?? '/';
}

/** Directories `tsc -b` writes, relative to the repository: each referenced project's outDir. */
function buildOutputs(): string[] {
  const read = (file: string) =>
    JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as {
      references?: Array<{ path: string }>;
      compilerOptions?: { outDir?: string };
    };
  return (read('tsconfig.json').references ?? []).map(({ path }) => {
    const outDir = read(posix.join(path, 'tsconfig.json')).compilerOptions?.outDir;
    assert.ok(outDir, `${path}/tsconfig.json has an outDir`);
    return posix.normalize(posix.join(path, outDir));
  });
}

describe('Dockerfile', () => {
  it('builds on Node of the major package.json engines ask for, on a glibc (Debian) base', () => {
    const major = /(\d+)/.exec(pkg.engines.node)?.[1];
    assert.ok(major, `engines.node ${pkg.engines.node}`);
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage');
    for (const stage of dockerfile.stages) {
      const match = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]([\w.-]+))?$/.exec(stage.image);
      assert.ok(match, `stage ${stage.name ?? '?'} starts from an official node image, not ${stage.image}`);
      assert.equal(match[1], major, `Node ${match[1]} in ${stage.image}`);
      // The uWebSockets.js binary needs glibc >= 2.36 (bookworm); alpine (musl) falls back to pure JS.
      assert.match(stage.image, /bookworm/, 'a Debian bookworm base (glibc 2.36)');
    }
  });

  it('compiles in the build stage and installs only production dependencies in the runtime stage', () => {
    const build = dockerfile.stages.find((s) => s.name === 'build');
    assert.ok(build, 'a stage named build');
    assert.ok(runs(build).some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(
      runs(build).some((r) => /\bnpm run build:dist\b/.test(r)),
      'the hub, SDK and CLI builds, without the tests’ type-check',
    );
    const install = runs(runtime).find((r) => /\bnpm ci\b/.test(r));
    assert.ok(install, 'the runtime stage runs npm ci');
    assert.match(install, /--omit=dev/);
    assert.match(install, /--ignore-scripts/, '`prepare` runs tsc, which --omit=dev leaves out');
    assert.ok(!runs(runtime).some((r) => /npm run build|\btsc\b/.test(r)), 'nothing is compiled at runtime');
  });

  it('copies only paths that exist in the repository and that .dockerignore keeps', () => {
    for (const stage of dockerfile.stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args))) {
        if (copy.from !== undefined) continue;
        for (const source of copy.sources) {
          const path = posix.normalize(source).replace(/\/$/, '');
          assert.ok(existsSync(join(ROOT, path)), `${source} exists`);
          assert.ok(!ignored(path), `${source} is not excluded by .dockerignore`);
          const inside = trackedFiles.filter((file) => file === path || file.startsWith(`${path}/`));
          assert.ok(inside.length > 0, `${source} holds tracked files`);
          for (const file of inside) assert.ok(!ignored(file), `${file} reaches the build context`);
        }
      }
    }
    // The context holds no local builds or dependencies.
    for (const path of ['node_modules', 'dist', 'protocol/dist', 'client-sdk/dist', 'protocol/node_modules', '.git']) {
      assert.ok(ignored(path), `${path} is excluded`);
    }
  });

  it("copies from the build stage only what tsc writes, and every workspace's output", () => {
    const outputs = buildOutputs();
    const build = dockerfile.stages.find((s) => s.name === 'build') as Stage;
    const root = workdir(build);
    const copied: string[] = [];
    for (const copy of runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args))) {
      if (copy.from === undefined) continue;
      assert.equal(copy.from, 'build');
      for (const source of copy.sources) {
        const relative = posix.relative(root, posix.normalize(source).replace(/\/$/, ''));
        assert.ok(outputs.includes(relative), `${source} is a build output (${outputs.join(', ')})`);
        copied.push(relative);
      }
    }
    assert.deepEqual([...copied].sort(), [...outputs].sort(), 'every build output reaches the runtime image');
    const runtimeCopies = runtime.instructions
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => parseCopy(i.args).sources.map((s) => posix.normalize(s).replace(/\/$/, '')));
    for (const workspace of pkg.workspaces) {
      assert.ok(runtimeCopies.includes(`${workspace}/package.json`), `${workspace}/package.json for npm ci`);
    }
  });

  it('ships the files the hub reads at run time (the demo, the admin page and the SDK bundle)', () => {
    const files = ['demo.ts', 'admin.ts'].flatMap((name) => {
      const source = join(ROOT, 'src', 'http', name);
      const table = [...readFileSync(source, 'utf8').matchAll(/^\s*'\/[^']*': \['([^']+)'/gm)].map(
        (m) => m[1] as string,
      );
      assert.ok(table.length > 0, `the asset table of src/http/${name} was read`);
      return table;
    });
    const root = workdir(runtime);
    const outputs = buildOutputs();
    const copies = runtime.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => parseCopy(i.args))
      .flatMap(({ from, sources, dest }) =>
        sources.map((source) => ({
          from,
          source: posix.normalize(source).replace(/\/$/, ''),
          dest: posix.relative(root, posix.resolve(root, dest)).replace(/\/$/, ''),
        })),
      );
    for (const file of files) {
      // The deepest destination wins (client-sdk/dist/ from the build over client-sdk/package.json).
      const copy = copies
        .filter(({ dest }) => file.startsWith(`${dest}/`))
        .sort((a, b) => b.dest.length - a.dest.length)[0];
      assert.ok(copy, `${file} is copied into the runtime image`);
      if (copy.from === undefined) assert.ok(trackedFiles.includes(file), `${file} is in the repository`);
      else
        assert.ok(
          outputs.some((out) => file.startsWith(`${out}/`)),
          `${file} is written by the build`,
        );
    }
  });

  it('runs the CLI: ENTRYPOINT node bin/switchboard.js, CMD serve', () => {
    const entrypoint = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT');
    const cmd = runtime.instructions.find((i) => i.keyword === 'CMD');
    assert.ok(entrypoint && cmd);
    const [node, script] = execForm(entrypoint.args);
    assert.equal(node, 'node');
    assert.equal(script, pkg.bin.switchboard, 'the package.json bin');
    assert.deepEqual(execForm(cmd.args), ['serve']);
    // The bin script loads the compiled CLI, which the runtime stage gets from the build stage.
    const bin = readFileSync(join(ROOT, script as string), 'utf8');
    const target = /import '([^']+)'/.exec(bin)?.[1];
    assert.ok(target, 'bin/switchboard.js imports the compiled CLI');
    const compiled = posix.normalize(posix.join(posix.dirname(script as string), target));
    assert.ok(
      buildOutputs().some((out) => compiled.startsWith(`${out}/`)),
      `${compiled} is under a build output`,
    );
    assert.ok(existsSync(join(ROOT, 'src', 'cli', 'main.ts')), 'the CLI source exists');
    // The pods pass `serve --config FILE` as args after this entrypoint.
    const hub = containersOf(baseHub).find((c) => c.name === 'hub');
    assert.ok(hub, 'the base Deployment has the hub container');
    assert.equal(hub.command, undefined, 'the pods keep the image entrypoint');
    assert.deepEqual((hub.args as string[])[0], 'serve');
  });

  it('runs as a non-root numeric user, the one the Kubernetes pods run as', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    const user = users.at(-1);
    assert.ok(user, 'the runtime stage sets USER');
    const [uid, gid] = user.split(':');
    assert.match(uid ?? '', /^\d+$/, 'numeric, so runAsNonRoot can verify it');
    assert.notEqual(Number(uid), 0, 'not root');
    const pod = obj(obj(podSpecOf(baseHub), 'pod spec').securityContext, 'securityContext');
    assert.equal(pod.runAsUser, Number(uid), 'k8s runAsUser matches');
    if (gid !== undefined) assert.equal(pod.runAsGroup, Number(gid), 'k8s runAsGroup matches');
  });

  it('exposes the hub port and checks /healthz with node (no curl in slim images)', () => {
    const port = parseConfig({}).port;
    const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args);
    assert.deepEqual(exposed, [String(port)]);
    const healthcheck = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    assert.ok(healthcheck, 'a HEALTHCHECK');
    const command = execForm(healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3).trim());
    assert.equal(command[0], 'node');
    assert.ok(hubRoutes().get.includes('/healthz'));
    assert.match(command.join(' '), /\/healthz/);
    assert.match(command.join(' '), new RegExp(`\\|\\|${port}\\b`), 'defaults to the hub port');
    assert.doesNotMatch(healthcheck.args, /\bcurl\b|\bwget\b/);
  });

  it('has the `sleep` the Kubernetes preStop hook runs (a Debian base, not distroless)', () => {
    const hub = containersOf(baseHub).find((c) => c.name === 'hub');
    assert.ok(hub);
    assert.ok(preStopSeconds(hub) > 0);
    assert.match(runtime.image, /bookworm/, 'Debian, with coreutils');
    assert.doesNotMatch(runtime.image, /distroless|scratch/);
  });
});
