-- Activity: trending, tool views, recommendations. Every table here is written by core/activity.c.
--
-- tool_activity: one row per tool with any activity. score_log is L = log2(sum w_i * 2^(t_i / h))
-- (core/trending.h): ordering by it orders by the time-decayed score at any common "now", and an
-- event moves it with one upsert of this row, so nothing ever rescans the tools. last_at is the
-- newest event, for the trending window.
CREATE TABLE tool_activity (
    tool_id   BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    score_log DOUBLE          NOT NULL,
    last_at   DATETIME(6)     NOT NULL,
    KEY tool_activity_score (score_log),
    KEY tool_activity_recent (last_at),
    CONSTRAINT tool_activity_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Views of GET /tools/{tool} per tool and day (UTC), counted in each worker's memory and added here
-- in batches, like tool_execution_days.
CREATE TABLE tool_view_days (
    tool_id BIGINT UNSIGNED NOT NULL,
    day     DATE            NOT NULL,
    views   BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tool_id, day),
    CONSTRAINT tool_view_days_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The tools a user has bought or used (first completed purchase or first successful run), newest
-- first by first_at: what recommendations leave out and what "bought together" pairs a new tool with.
CREATE TABLE activity_user_tools (
    user_id  BIGINT UNSIGNED NOT NULL,
    tool_id  BIGINT UNSIGNED NOT NULL,
    first_at DATETIME(6)     NOT NULL,
    PRIMARY KEY (user_id, tool_id),
    KEY activity_user_tools_recent (user_id, first_at),
    CONSTRAINT activity_user_tools_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT activity_user_tools_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- How many users have both tools (counted when the second of the two became theirs, against their
-- most recent 50 tools only), stored in both directions so one tool's partners are an index range.
CREATE TABLE tool_pairs (
    tool_id  BIGINT UNSIGNED NOT NULL,
    other_id BIGINT UNSIGNED NOT NULL,
    together BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tool_id, other_id),
    KEY tool_pairs_rank (tool_id, together),
    CONSTRAINT tool_pairs_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT tool_pairs_other FOREIGN KEY (other_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- What users already had before this migration: first runs of free tools and completed purchases
-- (no pairs are made up for them: "bought together" counts from here on).
INSERT IGNORE INTO activity_user_tools (user_id, tool_id, first_at)
    SELECT user_id, tool_id, first_used_at FROM tool_users;
INSERT IGNORE INTO activity_user_tools (user_id, tool_id, first_at)
    SELECT buyer_user_id, tool_id, MIN(completed_at) FROM transactions
     WHERE status IN ('completed', 'refunded') AND completed_at IS NOT NULL GROUP BY buyer_user_id, tool_id;

-- The trending score of the activity before this migration, from the last 90 days of history with
-- the default weights and half-life (execution 1, purchase 20, review 10; 72 h = 259200 s): an
-- execution day's count at noon of that day (never later than now), each completed (or since
-- refunded) purchase, each review written. L = log2(sum w * 2^(t / h)) is computed relative to now
-- so no power overflows; tools without such history get no row.
INSERT INTO tool_activity (tool_id, score_log, last_at)
    SELECT tool_id, l, last_at FROM (
        SELECT e.tool_id,
               LOG2(SUM(e.w * POW(2, (UNIX_TIMESTAMP(e.at) - UNIX_TIMESTAMP(UTC_TIMESTAMP(6))) / 259200)))
                 + UNIX_TIMESTAMP(UTC_TIMESTAMP(6)) / 259200 AS l,
               MAX(e.at) AS last_at
          FROM (
            SELECT tool_id, executions AS w,
                   LEAST(CAST(day AS DATETIME(6)) + INTERVAL 12 HOUR, UTC_TIMESTAMP(6)) AS at
              FROM tool_execution_days WHERE day > UTC_DATE() - INTERVAL 90 DAY AND executions > 0
            UNION ALL
            SELECT tool_id, 20, completed_at FROM transactions
             WHERE status IN ('completed', 'refunded') AND completed_at > UTC_TIMESTAMP(6) - INTERVAL 90 DAY
            UNION ALL
            SELECT tool_id, 10, created_at FROM reviews WHERE created_at > UTC_TIMESTAMP(6) - INTERVAL 90 DAY
          ) e GROUP BY e.tool_id
    ) s WHERE l IS NOT NULL;
