/**
 * `argus analyze FILE|URL`: submits a job to a running Argus server, shows a progress bar fed by the job's SSE
 * stream (reconnecting with Last-Event-ID if the connection drops), then prints the result as JSON on stdout.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { unwrap, upload, type ArgusClient } from '@argus/client';
import { addServerOptions, apiFailure, connect, type ServerOptions } from './server-client.js';

const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.avi', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.ts', '.wmv', '.flv']);

/** What the analyze command needs from the CLI. */
export interface AnalyzeCommandContext {
  print(line: string): void;
}

interface Options extends ServerOptions {
  tasks: string;
  collection?: string;
  operation?: 'detect' | 'search';
  callbackUrl?: string;
  video?: boolean;
  watch: boolean;
  wait: boolean;
}

/** Adds `argus analyze` to the program. */
export function addAnalyzeCommand(program: Command, ctx: AnalyzeCommandContext): void {
  addServerOptions(
    program
      .command('analyze')
      .description('submit a file or URL to a running server, follow its progress, print the result as JSON')
      .argument('<input>', 'a local image or video file, or an http(s) URL')
      .option('--tasks <list>', 'comma-separated tasks: detect, blur, faces, bibs', 'detect')
      .option('--collection <name>', 'the face collection the faces task searches (server default: "default")')
      .addOption(new Option('--operation <op>', 'faces task: detect faces only, or search them in the collection (server default: search)').choices(['detect', 'search']))
      .option('--callback-url <url>', 'where the server POSTs the signed result when the job ends')
      .option('--video', 'treat a URL as a video (default: by its extension)')
      .option('--watch', 'also print every analysed frame or item as it arrives (on stderr)', false)
      .option('--no-wait', 'print the task id and return without waiting'),
  ).action(async (input: string, opts: Options) => {
    const { client, server, key, fetch } = connect(opts);
    if ((opts.collection !== undefined || opts.operation !== undefined) && !opts.tasks.split(',').includes('faces')) {
      // The server accepts them with any tasks but only the faces task reads them: say so rather than ignore them silently.
      process.stderr.write('note: --collection and --operation apply to the faces task only (add faces to --tasks)\n');
    }
    const accepted = await submit(client, input, opts);
    if (!opts.wait) {
      ctx.print(JSON.stringify(accepted));
      return;
    }
    await follow(fetch, `${server}${accepted.events_endpoint}`, key ? { 'x-api-key': key } : {}, opts.watch);
    const result = unwrap(await client.GET('/api/v1/results/{task_id}', { params: { path: { task_id: accepted.task_id } } }));
    ctx.print(JSON.stringify(result, null, 2));
    if (result.status !== 'SUCCESS') {
      process.stderr.write(`analysis failed: ${result.error_message ?? 'unknown reason'}\n`);
      process.exitCode = 1;
    }
  });
}

async function submit(client: ArgusClient, input: string, opts: Options): Promise<{ task_id: string; status_endpoint: string; events_endpoint: string }> {
  // The same optional fields in the JSON and the multipart form; unset ones are left out (the server's defaults apply).
  const extra = { callback_url: opts.callbackUrl, collection: opts.collection, operation: opts.operation };
  let answer;
  if (/^https?:\/\//i.test(input)) {
    const video = opts.video ?? VIDEO_EXTENSIONS.has(path.extname(new URL(input).pathname).toLowerCase());
    answer = await client.POST('/api/v1/analyze', { body: { [video ? 'video_url' : 'image_url']: input, tasks: opts.tasks.split(','), ...definedOnly(extra) } });
  } else {
    await stat(input).catch(() => {
      throw new Error(`no such file: ${input}`);
    });
    // openAsBlob streams the file from disk as the request body is sent; nothing is read into memory at once.
    answer = await client.POST('/api/v1/analyze', upload({ tasks: opts.tasks, ...extra, file: { data: await openAsBlob(input), filename: path.basename(input) } }));
  }
  let accepted;
  try {
    accepted = unwrap(answer);
  } catch (err) {
    throw apiFailure('the server refused the job', err);
  }
  process.stderr.write(`task ${accepted.task_id} queued\n`);
  return accepted;
}

/** The object without its undefined fields (a JSON body should not carry them as nulls or keys). */
function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Follows the event stream until the final status, reconnecting after drops without losing events. */
async function follow(fetch: typeof globalThis.fetch, url: string, headers: Record<string, string>, watch: boolean): Promise<void> {
  const bar = new SingleBar({ format: 'analysing [{bar}] {count} {what}', stream: process.stderr, hideCursor: true, noTTYOutput: true, notTTYSchedule: 500 }, Presets.shades_classic);
  bar.start(1, 0, { count: '', what: '' });
  let lastId = '';
  let done = false;
  const onEvent = (e: EventSourceMessage): void => {
    if (e.id) lastId = e.id;
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.event === 'progress') {
      const done = Number(data.done) || 0;
      const what = typeof data.timestamp === 'number' ? `t=${data.timestamp.toFixed(1)}s` : '';
      if (typeof data.total === 'number' && data.total > 0) {
        bar.setTotal(data.total);
        bar.update(done, { count: `${Math.floor((100 * done) / data.total)}% ${done}/${data.total}`, what });
      } else {
        // A video still arriving has no known length (total null): an empty bar and a count, never a false 100%.
        bar.update(0, { count: `${done} so far, length not known yet`, what });
      }
    } else if (watch && (e.event === 'frame' || e.event === 'item')) {
      const dets = ((data.detections ?? (data.detect as { detections?: unknown[] } | undefined)?.detections ?? []) as { label: string; confidence: number; track_id?: number | null }[])
        .map((d) => `${d.label}${d.track_id ? `#${d.track_id}` : ''} ${d.confidence.toFixed(2)}`)
        .join(', ');
      const where = e.event === 'frame' ? `frame ${String(data.index)} @ ${Number(data.timestamp).toFixed(2)}s` : `item ${String(data.index)}`;
      process.stderr.write(`\n${where}: ${dets || 'nothing'}\n`);
    } else if (e.event === 'status' && (data.status === 'SUCCESS' || data.status === 'FAILED' || data.status === 'CANCELLED')) {
      done = true;
    }
  };
  for (let tries = 0; !done && tries < 20; tries++) {
    try {
      const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) } });
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
      const parser = createParser({ onEvent });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (err) {
      if (tries === 19) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  bar.stop();
}
