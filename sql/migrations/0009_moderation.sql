-- Moderation: users' reports on reviews and tools, and the append-only log of moderators' actions.
-- review_reports belongs to core/review_manager (a report may hide its review in the same
-- transaction); tool_reports and moderation_audit to core/moderation.

-- One report per (review, user): the unique key is the rule. counted says whether the report counts
-- toward the automatic hide (the reporter's account was old enough, config report_min_account_age);
-- an open report is closed when a moderator decides on the review.
CREATE TABLE review_reports (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    review_id  BIGINT UNSIGNED NOT NULL,
    user_id    BIGINT UNSIGNED NOT NULL,
    reason     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    detail     TEXT NULL,
    counted    BOOLEAN NOT NULL,
    status     VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'open',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    closed_at  DATETIME(6) NULL,
    UNIQUE KEY review_reports_review_user (review_id, user_id),
    KEY review_reports_user (user_id),
    CONSTRAINT review_reports_review FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE CASCADE,
    CONSTRAINT review_reports_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT review_reports_reason CHECK (reason IN ('spam', 'abuse', 'off_topic', 'fake', 'other')),
    CONSTRAINT review_reports_status CHECK (status IN ('open', 'closed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One OPEN report per (tool, user): open_user is the user while the report is open and NULL once it
-- is closed, and a unique key allows any number of NULLs, so a closed report does not block a new one.
CREATE TABLE tool_reports (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tool_id    BIGINT UNSIGNED NOT NULL,
    user_id    BIGINT UNSIGNED NOT NULL,
    reason     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    detail     TEXT NULL,
    status     VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'open',
    open_user  BIGINT UNSIGNED AS (IF(status = 'open', user_id, NULL)) PERSISTENT,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    closed_at  DATETIME(6) NULL,
    UNIQUE KEY tool_reports_open (tool_id, open_user),
    KEY tool_reports_status (status, tool_id),
    KEY tool_reports_user (user_id),
    CONSTRAINT tool_reports_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT tool_reports_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tool_reports_reason CHECK (reason IN ('malware', 'broken', 'misleading', 'spam', 'other')),
    CONSTRAINT tool_reports_status CHECK (status IN ('open', 'closed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every moderator action, written in the same transaction as the change it records. No foreign keys:
-- the record outlives the accounts, reviews and tools it names. before_state / after_state are JSON.
CREATE TABLE moderation_audit (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    actor_user_id BIGINT UNSIGNED NOT NULL,
    action        VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target_type   VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target_id     BIGINT UNSIGNED NOT NULL,
    note          TEXT NOT NULL,
    before_state  LONGTEXT NOT NULL CHECK (JSON_VALID(before_state)),
    after_state   LONGTEXT NOT NULL CHECK (JSON_VALID(after_state)),
    created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY moderation_audit_actor (actor_user_id, id),
    KEY moderation_audit_target (target_type, target_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only, enforced by the database itself: whatever code or hand runs an UPDATE or DELETE on
-- the log, it fails (SQLSTATE 45000). Only dropping the table gets rid of rows.
CREATE TRIGGER moderation_audit_no_update BEFORE UPDATE ON moderation_audit FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'moderation_audit is append-only';
CREATE TRIGGER moderation_audit_no_delete BEFORE DELETE ON moderation_audit FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'moderation_audit is append-only';

-- The moderation queue lists the transactions a webhook flagged, newest first, as an index walk.
ALTER TABLE transactions ADD KEY transactions_flagged (flagged_for_review, id);
