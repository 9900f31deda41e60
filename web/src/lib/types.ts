export interface Pricing {
  model: 'free' | 'one_time' | 'subscription';
  price_cents?: number;
  currency?: string;
  period_days?: number;
}

export interface Rating {
  average: number;
  count: number;
  bayesian?: number;
  distribution?: Record<string, number>;
}

export interface ToolSummary {
  id: string;
  slug: string;
  name: string;
  summary: string;
  category: string;
  pricing: Pricing;
  latest_version: string | null;
  downloads: number;
  rating: Rating;
}

export type JsonSchema = Record<string, unknown>;

export interface ToolTest {
  name: string;
  input: unknown;
  expected: unknown;
}

export interface Tool extends ToolSummary {
  description: string;
  tags: string[];
  developer: { id: string; display_name: string };
  input_schema: JsonSchema | null;
  output_schema: JsonSchema | null;
  code?: string;
  tests?: ToolTest[];
  status: 'draft' | 'published' | 'delisted';
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  per_page: number;
}

export interface User {
  id: string;
  email: string;
  display_name: string;
  roles: string[];
  developer?: { id: string; display_name: string };
}

export interface Review {
  id: string;
  tool_id: string;
  author: { id: string; display_name: string };
  rating: number;
  title: string;
  content: string;
  verified_purchase: boolean;
  helpful_count: number;
  unhelpful_count: number;
  status: string;
  created_at: string;
  updated_at: string;
  response: { content: string; created_at: string; updated_at: string } | null;
}

export interface Version {
  tool_id: string;
  version: string;
  prerelease: boolean;
  changelog: string;
  created_at: string;
}

export interface Category {
  name: string;
  label: string;
  count: number;
}

export interface Transaction {
  id: string;
  status: 'pending' | 'completed' | 'failed' | 'refunded';
  tool_id: string;
  amount_cents: number;
  currency: string;
  pricing_model: Pricing['model'];
  period_days?: number;
  created_at: string;
  completed_at?: string;
  receipt?: string;
  plan_id?: string;
  plan_name?: string;
}

export interface Plan {
  id: string;
  name: string;
  model: Pricing['model'];
  price_cents: number;
  currency: string;
  period_days?: number;
  quota?: number;
  rate_per_minute?: number;
  default: boolean;
}

export interface UsageItem {
  tool_id: string;
  slug: string;
  name: string;
  plan: { id: string; name: string; model: Pricing['model'] };
  period_start: string;
  period_end: string;
  used: number;
  quota: number | null;
  remaining: number | null;
}
