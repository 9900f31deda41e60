-- Money edge cases (core/payout, core/transaction_events):
--   payouts.expires_at: when the payout's token stops being redeemable (its exp claim). An
--     unredeemed payout past it is expired by the sweep and its money goes back to available.
--     Payouts made before this column get the default token lifetime (one day) after creation.
--   payouts.flagged_for_review: the provider said something that contradicts what we recorded
--     (paid after failed, failed after paid, paid after expired); an operator looks.
--   webhook_events.result: what an event did ("completed", "ignored: payout is failed", ...), so
--     an acknowledged event that changed nothing can still be explained.
ALTER TABLE payouts
    ADD COLUMN expires_at DATETIME(6) NULL AFTER redeemed_at,
    ADD COLUMN flagged_for_review TINYINT(1) NOT NULL DEFAULT 0 AFTER failure_reason,
    ADD KEY payouts_expiry (status, expires_at),
    DROP CONSTRAINT payouts_status,
    ADD CONSTRAINT payouts_status CHECK (status IN ('requested', 'processing', 'paid', 'failed', 'expired'));

UPDATE payouts SET expires_at = created_at + INTERVAL 1 DAY WHERE expires_at IS NULL;

ALTER TABLE webhook_events ADD COLUMN result VARCHAR(128) CHARACTER SET ascii NULL;
