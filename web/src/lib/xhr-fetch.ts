/**
 * A fetch built on XMLHttpRequest, for uploads: fetch() cannot report how much of a request body was sent, XHR can.
 * It is handed to the typed client for one call (openapi-fetch's `fetch` option), so uploads still go through it.
 */

/** A fetch function that reports upload progress (bytes sent, bytes in all). */
export function progressFetch(onProgress: (sent: number, total: number) => void, signal?: AbortSignal): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    // The encoded multipart body, boundary and all, exactly as fetch would have sent it.
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.blob();
    return new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, request.url);
      xhr.withCredentials = true;
      request.headers.forEach((value, name) => xhr.setRequestHeader(name, value));
      xhr.responseType = 'blob';
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : body?.size ?? 0);
      xhr.onload = () => {
        const headers = new Headers();
        for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
          const i = line.indexOf(':');
          if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
        resolve(new Response(xhr.status === 204 ? null : (xhr.response as Blob), { status: xhr.status, statusText: xhr.statusText, headers }));
      };
      xhr.onerror = () => reject(new TypeError('network error while uploading'));
      xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
      signal?.addEventListener('abort', () => xhr.abort());
      xhr.send(body);
    });
  };
}
