-- API keys: a user's long-lived credentials for running tools from their own code. The key itself
-- ("mk_" + 43 base64url characters) is shown once and stored only as its SHA-256, beside a visible
-- prefix that tells the owner which key is which. A key may name the tools it runs (api_key_tools;
-- none named = every tool its owner may run) and an expiry; revoking keeps the row (revoked_at) so
-- the owner's history of usage stays readable. Per-key daily request counts are batched in each
-- worker and written back about once a second (api_key_days), which also moves last_used_at.
-- Written only by core/api_key.c.
CREATE TABLE api_keys (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    name         VARCHAR(100) NOT NULL,
    prefix       CHAR(11) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    key_hash     BINARY(32) NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at   DATETIME(6) NULL,
    revoked_at   DATETIME(6) NULL,
    last_used_at DATETIME(6) NULL,
    UNIQUE KEY api_keys_hash (key_hash),
    KEY api_keys_user (user_id, revoked_at),
    CONSTRAINT api_keys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE api_key_tools (
    key_id  BIGINT UNSIGNED NOT NULL,
    tool_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (key_id, tool_id),
    CONSTRAINT api_key_tools_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE,
    CONSTRAINT api_key_tools_tool FOREIGN KEY (tool_id) REFERENCES tools (id)
) ENGINE=InnoDB;

CREATE TABLE api_key_days (
    key_id   BIGINT UNSIGNED NOT NULL,
    day      DATE NOT NULL,
    requests BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day),
    CONSTRAINT api_key_days_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB;
