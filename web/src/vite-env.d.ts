/// <reference types="vite/client" />

declare module 'virtual:ai-settings-schema' {
  /** The AiSettings schema of the OpenAPI document: each property's type, bounds, default and description. */
  const schema: {
    properties: Record<string, { type?: string; minimum?: number; maximum?: number; default?: unknown; description?: string; items?: { type?: string }; anyOf?: unknown[] }>;
  };
  export default schema;
}
