import { z } from 'zod';
import { HUB_VERSION } from '../version.js';
import { METHODS } from './methods.js';

const ErrorBody = z.object({ error: z.string().meta({ description: 'Why, in words; never an echo of the input.' }) });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/**
 * The OpenAPI 3.1 document of the server API, generated from the same zod schemas that validate
 * requests (src/api/schemas.ts). zod-openapi is loaded on the first request for it, not at
 * start-up: most hubs never serve it.
 */
export async function openApiDocument(): Promise<string> {
  const { createDocument } = await import('zod-openapi');
  const paths = Object.fromEntries(
    Object.entries(METHODS).map(([name, method]) => [
      `/api/${name}`,
      {
        post: {
          operationId: name,
          summary: method.summary,
          requestBody: { required: true, content: { 'application/json': { schema: method.request } } },
          responses: {
            '200': { description: 'Done', content: { 'application/json': { schema: method.response } } },
            '400': errorResponse('The body is not valid JSON, or not a valid request: the reason names the field.'),
            '401': errorResponse('`http.apiKey` is set and the request does not carry it.'),
            '403': errorResponse('Without `http.apiKey`, the caller is not on this machine.'),
            '413': errorResponse('The body is over `limits.maxHttpBodyBytes`.'),
            '503': errorResponse('The broker or the cluster state is not available; retry later.'),
          },
        },
      },
    ]),
  );
  const document = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Switchboard server API',
      version: HUB_VERSION,
      description:
        'Commands for services: publish, subscriptions, connections, presence, history. Every method is ' +
        '`POST /api/<method>` with a JSON body. Commands about connections reach every hub; their answer ' +
        'says how many hubs answered (`hubs.complete`).',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    security: [{ apiKey: [] }],
    paths,
  });
  return JSON.stringify(document);
}
