// API keys (POST/GET/DELETE /me/api-keys): the request body the form sends and the field errors it shows.

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  tools: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  expired: boolean;
  requests_today: number;
  requests_30d: number;
}

/** The answer to a creation: the only one that holds `key`. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface ApiKeyBody {
  name: string;
  tools?: string[];
  expires_at?: string;
}

/** The body for the form's values: tool ids separated by commas or spaces (none: every tool), and an
 * expiry day (YYYY-MM-DD, the start of that day in UTC; empty: never). */
export function apiKeyBody(name: string, tools: string, expiresDay: string): ApiKeyBody {
  const body: ApiKeyBody = { name: name.trim() };
  const ids = tools.split(/[\s,]+/).filter(Boolean);
  if (ids.length) body.tools = ids;
  if (expiresDay) body.expires_at = `${expiresDay}T00:00:00Z`;
  return body;
}

/** The API names a tool by its place (`tools[2]`): the form has one field for all of them. */
export function toolsError(fields: Record<string, string>): string | undefined {
  const key = Object.keys(fields).find((f) => f === 'tools' || f.startsWith('tools['));
  return key ? (key === 'tools' ? fields[key] : `${key}: ${fields[key]}`) : undefined;
}
