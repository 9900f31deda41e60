-- Tools: categories (a fixed list kept here), drafts, tags, immutable published versions, daily
-- execution counters and the first-use record that turns a free tool's first run into a download.

CREATE TABLE categories (
    name     VARCHAR(32) NOT NULL PRIMARY KEY,
    label    VARCHAR(80) NOT NULL,
    position INT         NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO categories (name, label, position) VALUES
    ('text',            'Text',            1),
    ('data',            'Data',            2),
    ('developer-tools', 'Developer tools', 3),
    ('finance',         'Finance',         4),
    ('math',            'Math',            5),
    ('media',           'Media',           6),
    ('productivity',    'Productivity',    7),
    ('security',        'Security',        8),
    ('web',             'Web',             9),
    ('other',           'Other',           10);

-- The draft lives in the tools row (input_schema, output_schema, code, tests as JSON text); what
-- buyers run lives in tool_versions and never changes. Rating columns are kept by the reviews issue
-- so that reads never aggregate reviews.
CREATE TABLE tools (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    slug           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    developer_id   BIGINT UNSIGNED NOT NULL,
    name           VARCHAR(80)  NOT NULL,
    summary        VARCHAR(200) NOT NULL DEFAULT '',
    description    MEDIUMTEXT   NOT NULL,
    category       VARCHAR(32)  NOT NULL,
    pricing_model  VARCHAR(16)  CHARACTER SET ascii NOT NULL DEFAULT 'free',
    price_cents    BIGINT UNSIGNED NOT NULL DEFAULT 0,
    currency       CHAR(3)      CHARACTER SET ascii NOT NULL DEFAULT 'USD',
    period_days    INT UNSIGNED NULL,
    input_schema   LONGTEXT     NOT NULL,
    output_schema  LONGTEXT     NOT NULL,
    code           LONGTEXT     NOT NULL,
    tests          LONGTEXT     NOT NULL,
    status         VARCHAR(16)  CHARACTER SET ascii NOT NULL DEFAULT 'draft',
    latest_version VARCHAR(256) CHARACTER SET ascii COLLATE ascii_bin NULL,
    published_at   DATETIME(6)  NULL,
    downloads      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    rating_count   INT UNSIGNED NOT NULL DEFAULT 0,
    rating_sum     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    rating_1       INT UNSIGNED NOT NULL DEFAULT 0,
    rating_2       INT UNSIGNED NOT NULL DEFAULT 0,
    rating_3       INT UNSIGNED NOT NULL DEFAULT 0,
    rating_4       INT UNSIGNED NOT NULL DEFAULT 0,
    rating_5       INT UNSIGNED NOT NULL DEFAULT 0,
    created_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY tools_slug (slug),
    KEY tools_developer (developer_id, status),
    KEY tools_category (category, status),
    KEY tools_status (status, published_at),
    CONSTRAINT tools_developer FOREIGN KEY (developer_id) REFERENCES developers (id),
    CONSTRAINT tools_category FOREIGN KEY (category) REFERENCES categories (name),
    CONSTRAINT tools_status CHECK (status IN ('draft', 'published', 'delisted')),
    CONSTRAINT tools_pricing CHECK (pricing_model IN ('free', 'one_time', 'subscription')),
    CONSTRAINT tools_price CHECK ((pricing_model = 'free') = (price_cents = 0))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tool_tags (
    tool_id BIGINT UNSIGNED NOT NULL,
    tag     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (tool_id, tag),
    KEY tool_tags_tag (tag),
    CONSTRAINT tool_tags_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- major/minor/patch/prerelease are kept for SQL-side filters; precedence (pre-release identifiers)
-- is decided in C with semver_compare.
CREATE TABLE tool_versions (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tool_id       BIGINT UNSIGNED NOT NULL,
    version       VARCHAR(256) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    major         BIGINT UNSIGNED NOT NULL,
    minor         BIGINT UNSIGNED NOT NULL,
    patch         BIGINT UNSIGNED NOT NULL,
    prerelease    VARCHAR(256) CHARACTER SET ascii COLLATE ascii_bin NULL,
    changelog     MEDIUMTEXT   NOT NULL,
    input_schema  LONGTEXT     NOT NULL,
    output_schema LONGTEXT     NOT NULL,
    code          LONGTEXT     NOT NULL,
    tests         LONGTEXT     NOT NULL,
    created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY tool_versions_version (tool_id, version),
    CONSTRAINT tool_versions_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tool_execution_days (
    tool_id    BIGINT UNSIGNED NOT NULL,
    day        DATE            NOT NULL,
    executions BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (tool_id, day),
    CONSTRAINT tool_execution_days_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- One row per (free tool, user) on the first successful run; the insert that creates it is what
-- increments tools.downloads, so a download is counted once per user however often they run it.
CREATE TABLE tool_users (
    tool_id       BIGINT UNSIGNED NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    first_used_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (tool_id, user_id),
    KEY tool_users_user (user_id),
    CONSTRAINT tool_users_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT tool_users_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
