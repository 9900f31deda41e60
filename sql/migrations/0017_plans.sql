-- Plans and quotas (core/tool_plans, core/quota): a tool sells up to five plans; its pricing columns
-- stay the mirror of its default plan, so everything that reads a tool's price keeps working.

-- One row per plan a tool sells now or sold once. A plan the owner drops gets retired_at and stays,
-- because transactions name it; default_for is the tool's id on its default plan and NULL on the
-- others, so the unique key allows one default per tool. quota: executions per period (NULL =
-- unlimited); rate_per_minute: executions a minute (NULL = only the per-key default applies).
CREATE TABLE tool_plans (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tool_id         BIGINT UNSIGNED NOT NULL,
    position        TINYINT UNSIGNED NOT NULL DEFAULT 0,
    name            VARCHAR(80)  NOT NULL,
    model           VARCHAR(16)  CHARACTER SET ascii NOT NULL,
    price_cents     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    currency        CHAR(3)      CHARACTER SET ascii NOT NULL DEFAULT 'USD',
    period_days     INT UNSIGNED NULL,
    quota           BIGINT UNSIGNED NULL,
    rate_per_minute INT UNSIGNED NULL,
    default_for     BIGINT UNSIGNED NULL,
    retired_at      DATETIME(6)  NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY tool_plans_default (default_for),
    KEY tool_plans_tool (tool_id, retired_at, position),
    CONSTRAINT tool_plans_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT tool_plans_model CHECK (model IN ('free', 'one_time', 'subscription')),
    CONSTRAINT tool_plans_price CHECK ((model = 'free') = (price_cents = 0)),
    CONSTRAINT tool_plans_quota CHECK (quota IS NULL OR quota > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every existing tool's pricing becomes its default plan.
INSERT INTO tool_plans (tool_id, position, name, model, price_cents, currency, period_days, default_for)
SELECT id, 0,
       CASE pricing_model WHEN 'free' THEN 'Free' WHEN 'one_time' THEN 'Standard' ELSE 'Subscription' END,
       pricing_model, price_cents, currency, period_days, id
  FROM tools;

-- The terms a purchase was made on, fixed at checkout (plan edits apply to new purchases only).
ALTER TABLE transactions
    ADD COLUMN plan_id BIGINT UNSIGNED NULL AFTER period_days,
    ADD COLUMN plan_name VARCHAR(80) NULL AFTER plan_id,
    ADD COLUMN quota BIGINT UNSIGNED NULL AFTER plan_name,
    ADD COLUMN rate_per_minute INT UNSIGNED NULL AFTER quota,
    ADD KEY transactions_plan (plan_id);
UPDATE transactions x JOIN tool_plans p ON p.default_for = x.tool_id
   SET x.plan_id = p.id, x.plan_name = p.name;

-- The buyer's terms, recorded on their access: the plan they hold now, its quota and rate, and the
-- start of their first quota period (subscriptions count periods of period_days from it; free and
-- one_time plans count calendar months, UTC).
ALTER TABLE tool_access
    ADD COLUMN plan_id BIGINT UNSIGNED NULL,
    ADD COLUMN plan_name VARCHAR(80) NULL,
    ADD COLUMN model VARCHAR(16) CHARACTER SET ascii NULL,
    ADD COLUMN period_days INT UNSIGNED NULL,
    ADD COLUMN quota BIGINT UNSIGNED NULL,
    ADD COLUMN rate_per_minute INT UNSIGNED NULL,
    ADD COLUMN period_anchor DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6);
UPDATE tool_access a JOIN tool_plans p ON p.default_for = a.tool_id
   SET a.plan_id = p.id, a.plan_name = p.name, a.model = p.model, a.period_days = p.period_days;

-- Quota accounting per buyer, tool, plan and period. leased: units handed to app hosts and not yet
-- used or given back; used: successful executions written back. used + leased <= the quota, always.
CREATE TABLE plan_usage (
    user_id      BIGINT UNSIGNED NOT NULL,
    tool_id      BIGINT UNSIGNED NOT NULL,
    plan_id      BIGINT UNSIGNED NOT NULL,
    period_start DATETIME NOT NULL,
    used         BIGINT UNSIGNED NOT NULL DEFAULT 0,
    leased       BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (user_id, tool_id, plan_id, period_start),
    KEY plan_usage_user (user_id, tool_id),
    CONSTRAINT plan_usage_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT plan_usage_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Successful executions per plan and UTC day (batched in each worker like tool_execution_days), for
-- the developer's analytics per plan and month. Executions without a plan (the developer's own) are
-- not counted here.
CREATE TABLE plan_execution_days (
    plan_id    BIGINT UNSIGNED NOT NULL,
    day        DATE NOT NULL,
    executions BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, day)
) ENGINE=InnoDB;
