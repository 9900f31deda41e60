-- Double-entry ledger (core/ledger): a posting is one business event, its entries move money between
-- accounts and sum to zero per currency. Rows are only ever inserted: a correction is a new posting.

-- UNIQUE (kind, ref_type, ref_id): one business event can be posted once only. Callers rely on the
-- duplicate-key error for idempotency (a replayed webhook or a retried payout step posts nothing).
CREATE TABLE ledger_postings (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    ref_type   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    ref_id     BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY ledger_postings_event (kind, ref_type, ref_id),
    CONSTRAINT ledger_postings_kind
        CHECK (kind IN ('purchase', 'refund', 'payout_requested', 'payout_paid', 'payout_failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Balances are SUM(amount_cents) over (account, currency): the key covers that sum (amount included)
-- so a balance never reads the clustered rows. Account names are ASCII and compared byte-wise, so
-- no two distinct names ever collate equal.
CREATE TABLE ledger_entries (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    posting_id   BIGINT UNSIGNED NOT NULL,
    account      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    currency     CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    amount_cents BIGINT NOT NULL,
    KEY ledger_entries_account (account, currency, amount_cents),
    KEY ledger_entries_posting (posting_id),
    CONSTRAINT ledger_entries_posting FOREIGN KEY (posting_id) REFERENCES ledger_postings (id),
    CONSTRAINT ledger_entries_nonzero CHECK (amount_cents <> 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
