-- Payouts (core/payout): a developer's request to be paid part of their available balance, the
-- single-use signed token the payout processor redeems, and the provider's final word (paid/failed).
-- Money itself moves only through the ledger; these rows record the state the postings belong to.

-- token_jti is the jti claim of the payout token (the payout id as text), set in the transaction
-- that creates the payout; UNIQUE so one token can never name two payouts.
CREATE TABLE payouts (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    developer_id   BIGINT UNSIGNED NOT NULL,
    amount_cents   BIGINT UNSIGNED NOT NULL,
    currency       CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status         VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'requested',
    token_jti      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    redeemed_at    DATETIME(6) NULL,
    failure_reason VARCHAR(500) NULL,
    created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY payouts_token_jti (token_jti),
    KEY payouts_developer (developer_id, id),
    CONSTRAINT payouts_developer FOREIGN KEY (developer_id) REFERENCES developers (id),
    CONSTRAINT payouts_status CHECK (status IN ('requested', 'processing', 'paid', 'failed')),
    CONSTRAINT payouts_amount CHECK (amount_cents > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per redeemed token: the primary key is what makes a token single-use, inserted in the
-- same transaction that moves the payout to processing, so a replay can never apply twice.
CREATE TABLE payout_redemptions (
    jti         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    payout_id   BIGINT UNSIGNED NOT NULL,
    redeemed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT payout_redemptions_payout FOREIGN KEY (payout_id) REFERENCES payouts (id)
) ENGINE=InnoDB;
