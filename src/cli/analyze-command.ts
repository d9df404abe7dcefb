/**
 * `argus analyze FILE|URL`: submits a job to a running Argus server, shows a progress bar fed by the job's SSE
 * stream (reconnecting with Last-Event-ID if the connection drops), then prints the result as JSON on stdout.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ArgusError, createArgusClient, unwrap, upload, type ArgusClient } from '@argus/client';

const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.avi', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.ts', '.wmv', '.flv']);

/** What the analyze command needs from the CLI. */
export interface AnalyzeCommandContext {
  print(line: string): void;
}

interface Options {
  tasks: string;
  server: string;
  key?: string;
  video?: boolean;
  watch: boolean;
  wait: boolean;
}

/** Adds `argus analyze` to the program. */
export function addAnalyzeCommand(program: Command, ctx: AnalyzeCommandContext): void {
  program
    .command('analyze')
    .description('submit a file or URL to a running server, follow its progress, print the result as JSON')
    .argument('<input>', 'a local image or video file, or an http(s) URL')
    .option('--tasks <list>', 'comma-separated tasks: detect, blur, faces, bibs', 'detect')
    .option('--server <url>', 'the Argus server (also ARGUS_SERVER)', process.env.ARGUS_SERVER ?? 'http://localhost:8080')
    .option('--key <key>', 'API key (also ARGUS_API_KEY)', process.env.ARGUS_API_KEY)
    .option('--video', 'treat a URL as a video (default: by its extension)')
    .option('--watch', 'also print every analysed frame or item as it arrives (on stderr)', false)
    .option('--no-wait', 'print the task id and return without waiting')
    .action(async (input: string, opts: Options) => {
      const server = opts.server.replace(/\/+$/, '');
      const client = createArgusClient({ baseUrl: server, apiKey: opts.key });
      const accepted = await submit(client, input, opts);
      if (!opts.wait) {
        ctx.print(JSON.stringify(accepted));
        return;
      }
      await follow(`${server}${accepted.events_endpoint}`, opts.key ? { 'x-api-key': opts.key } : {}, opts.watch);
      const result = unwrap(await client.GET('/api/v1/results/{task_id}', { params: { path: { task_id: accepted.task_id } } }));
      ctx.print(JSON.stringify(result, null, 2));
      if (result.status !== 'SUCCESS') {
        process.stderr.write(`analysis failed: ${result.error_message ?? 'unknown reason'}\n`);
        process.exitCode = 1;
      }
    });
}

async function submit(client: ArgusClient, input: string, opts: Options): Promise<{ task_id: string; status_endpoint: string; events_endpoint: string }> {
  let answer;
  if (/^https?:\/\//i.test(input)) {
    const video = opts.video ?? VIDEO_EXTENSIONS.has(path.extname(new URL(input).pathname).toLowerCase());
    answer = await client.POST('/api/v1/analyze', { body: { [video ? 'video_url' : 'image_url']: input, tasks: opts.tasks.split(',') } });
  } else {
    await stat(input).catch(() => {
      throw new Error(`no such file: ${input}`);
    });
    // openAsBlob streams the file from disk as the request body is sent; nothing is read into memory at once.
    answer = await client.POST('/api/v1/analyze', upload({ tasks: opts.tasks, file: { data: await openAsBlob(input), filename: path.basename(input) } }));
  }
  let accepted;
  try {
    accepted = unwrap(answer);
  } catch (err) {
    const why = err instanceof ArgusError ? `${err.status} ${err.code}: ${err.message}` : String(err);
    throw new Error(`the server refused the job: ${why}`, { cause: err });
  }
  process.stderr.write(`task ${accepted.task_id} queued\n`);
  return accepted;
}

/** Follows the event stream until the final status, reconnecting after drops without losing events. */
async function follow(url: string, headers: Record<string, string>, watch: boolean): Promise<void> {
  const bar = new SingleBar({ format: 'analysing [{bar}] {percentage}% {value}/{total} {what}', stream: process.stderr, hideCursor: true, noTTYOutput: true, notTTYSchedule: 500 }, Presets.shades_classic);
  bar.start(1, 0, { what: '' });
  let lastId = '';
  let done = false;
  const onEvent = (e: EventSourceMessage): void => {
    if (e.id) lastId = e.id;
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.event === 'progress') {
      bar.setTotal(Math.max(Number(data.total) || 1, 1));
      bar.update(Number(data.done) || 0, { what: typeof data.timestamp === 'number' ? `t=${data.timestamp.toFixed(1)}s` : '' });
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
