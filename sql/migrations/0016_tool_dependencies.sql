-- Composed tools: a tool's code may call other tools (tools.call in the sandbox).
--
-- tools.dependencies is the draft's declaration, JSON text {"slug": "semver range", ...}, written with
-- the other draft columns by core/tool_record.c. Publishing resolves each range to the highest
-- published version that satisfies it and stores the result here, one row per (depending version,
-- called tool): immutable like the version, so an execution never resolves again. tool_id repeats
-- the depending version's tool, so the tool-level graph the cycle check walks is one index scan.
-- Written only by core/tool_compose.c.
ALTER TABLE tools ADD COLUMN dependencies TEXT NOT NULL DEFAULT '{}';

CREATE TABLE tool_dependencies (
    version_id     BIGINT UNSIGNED NOT NULL,
    tool_id        BIGINT UNSIGNED NOT NULL,
    dep_tool_id    BIGINT UNSIGNED NOT NULL,
    dep_version_id BIGINT UNSIGNED NOT NULL,
    dep_range      VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (version_id, dep_tool_id),
    KEY tool_dependencies_graph (tool_id, dep_tool_id),
    KEY tool_dependencies_callee (dep_tool_id),
    CONSTRAINT tool_dependencies_version FOREIGN KEY (version_id) REFERENCES tool_versions (id),
    CONSTRAINT tool_dependencies_tool FOREIGN KEY (tool_id) REFERENCES tools (id),
    CONSTRAINT tool_dependencies_dep_tool FOREIGN KEY (dep_tool_id) REFERENCES tools (id),
    CONSTRAINT tool_dependencies_dep_version FOREIGN KEY (dep_version_id) REFERENCES tool_versions (id)
) ENGINE=InnoDB;
