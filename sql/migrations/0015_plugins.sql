-- Plugins (core/plugin_manager): named filters developers publish as immutable, growing versions,
-- and the plugin set each tool's owner attaches, stored resolved so execution never resolves again.

-- A version of each tool's resolved plugin chain, moved whenever its owner sets a new plugin set.
-- Workers cache a tool's chain keyed by this version (core/hook_system), read with the tool, so a
-- cached chain is never stale and costs no query per execution.
ALTER TABLE tools ADD COLUMN plugins_version BIGINT UNSIGNED NOT NULL DEFAULT 0;

CREATE TABLE plugins (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    developer_id BIGINT UNSIGNED NOT NULL,
    -- the newest version's description, so lists read one row per plugin
    description  VARCHAR(1000) NOT NULL DEFAULT '',
    latest_version VARCHAR(256) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    deprecated   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY plugins_name (name),
    KEY plugins_developer (developer_id),
    CONSTRAINT plugins_developer FOREIGN KEY (developer_id) REFERENCES developers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- hooks: JSON object {hook point: Lua code}; dependencies: JSON object {plugin name: semver range}.
CREATE TABLE plugin_versions (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    plugin_id    BIGINT UNSIGNED NOT NULL,
    version      VARCHAR(256) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    description  VARCHAR(1000) NOT NULL DEFAULT '',
    hooks        LONGTEXT NOT NULL,
    dependencies TEXT NOT NULL,
    priority     INT NOT NULL DEFAULT 0,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY plugin_versions_version (plugin_id, version),
    CONSTRAINT plugin_versions_plugin FOREIGN KEY (plugin_id) REFERENCES plugins (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What the tool's owner asked for, in the order given.
CREATE TABLE tool_plugin_requests (
    tool_id    BIGINT UNSIGNED NOT NULL,
    position   INT UNSIGNED NOT NULL,
    name       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    range_text VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (tool_id, position),
    CONSTRAINT tool_plugin_requests_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The resolved chain in execution order (dependencies first, then priority, then name).
CREATE TABLE tool_plugins (
    tool_id           BIGINT UNSIGNED NOT NULL,
    position          INT UNSIGNED NOT NULL,
    plugin_version_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tool_id, position),
    KEY tool_plugins_version (plugin_version_id),
    CONSTRAINT tool_plugins_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT tool_plugins_plugin_version FOREIGN KEY (plugin_version_id) REFERENCES plugin_versions (id)
) ENGINE=InnoDB;
