-- Purchases (core/transaction_manager): one row per checkout, the idempotency keys that make a
-- retried checkout answer the same, the payment-provider events already applied, and who may run
-- which paid tool until when.

-- status: pending (waiting for the provider) -> completed | failed; completed -> refunded.
-- developer_cents + platform_cents = amount_cents always (money_split). provider_ref is what the
-- provider knows the payment by; flagged_for_review is set when an event disagreed with the row.
CREATE TABLE transactions (
    id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    buyer_user_id      BIGINT UNSIGNED NOT NULL,
    tool_id            BIGINT UNSIGNED NOT NULL,
    developer_id       BIGINT UNSIGNED NOT NULL,
    amount_cents       BIGINT UNSIGNED NOT NULL,
    currency           CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    developer_cents    BIGINT UNSIGNED NOT NULL,
    platform_cents     BIGINT UNSIGNED NOT NULL,
    pricing_model      VARCHAR(16)  CHARACTER SET ascii NOT NULL,
    period_days        INT UNSIGNED NULL,
    status             VARCHAR(16)  CHARACTER SET ascii NOT NULL DEFAULT 'pending',
    provider_ref       VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    flagged_for_review TINYINT(1)   NOT NULL DEFAULT 0,
    receipt            TEXT         CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at         DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    completed_at       DATETIME(6)  NULL,
    UNIQUE KEY transactions_provider_ref (provider_ref),
    KEY transactions_buyer (buyer_user_id, id),
    KEY transactions_developer (developer_id, id),
    KEY transactions_tool (tool_id),
    CONSTRAINT transactions_buyer FOREIGN KEY (buyer_user_id) REFERENCES users (id),
    CONSTRAINT transactions_tool FOREIGN KEY (tool_id) REFERENCES tools (id),
    CONSTRAINT transactions_developer FOREIGN KEY (developer_id) REFERENCES developers (id),
    CONSTRAINT transactions_status CHECK (status IN ('pending', 'completed', 'failed', 'refunded')),
    CONSTRAINT transactions_split CHECK (developer_cents + platform_cents = amount_cents)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Stripe-style idempotency: the row is inserted (status_code NULL = in progress) before the work,
-- in its own transaction, so of two concurrent requests with one key exactly one does the work;
-- the answer is stored with the work and replayed for 24 hours.
CREATE TABLE idempotency_keys (
    user_id      BIGINT UNSIGNED NOT NULL,
    idem_key     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_hash BINARY(32)   NOT NULL,
    response     JSON         NULL,
    status_code  SMALLINT UNSIGNED NULL,
    created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (user_id, idem_key),
    KEY idempotency_keys_created (created_at),
    CONSTRAINT idempotency_keys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Provider event ids already applied; inserted in the same database transaction as the event's
-- effect, so a redelivered event finds its id and changes nothing.
CREATE TABLE webhook_events (
    event_id    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    type        VARCHAR(64)  CHARACTER SET ascii NOT NULL,
    received_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;

-- Who may run a paid tool: access_until NULL = for good (one_time), otherwise the end of the paid
-- subscription period. Kept when the tool is delisted, so buyers keep what they paid for.
CREATE TABLE tool_access (
    user_id      BIGINT UNSIGNED NOT NULL,
    tool_id      BIGINT UNSIGNED NOT NULL,
    access_until DATETIME(6)     NULL,
    PRIMARY KEY (user_id, tool_id),
    KEY tool_access_tool (tool_id),
    CONSTRAINT tool_access_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tool_access_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;
