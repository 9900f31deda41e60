-- Several app hosts (docs/scaling.md, core/cluster.h).
--
-- cluster_epochs: one row per thing other hosts may hold in memory, (channel, item), whose epoch
-- moves with every change of it. Each host's master polls the rows that moved into its shared
-- memory (about every 200 ms), so a change made on one host empties the caches of every host.
-- Written by the triggers below, so the move is in the SAME transaction as the change, whatever
-- wrote it (the server, `marketplace user grant`, direct SQL). Channels:
--   'auth', item 0      a session revoked or deleted, a role granted or taken (the auth caches)
--   'tool', item <id>   any change of a tools row: delisting, edits, a review's counters, versions
CREATE TABLE cluster_epochs (
    channel    VARCHAR(32) NOT NULL,
    item       BIGINT UNSIGNED NOT NULL,
    epoch      BIGINT UNSIGNED NOT NULL DEFAULT 1,
    changed_at DATETIME(6) NOT NULL,
    PRIMARY KEY (channel, item),
    KEY cluster_epochs_time (changed_at)
) ENGINE=InnoDB;

CREATE TRIGGER cluster_auth_session_update AFTER UPDATE ON sessions FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at)
    SELECT 'auth', 0, UTC_TIMESTAMP(6) FROM DUAL
    WHERE NOT (NEW.revoked_at <=> OLD.revoked_at AND NEW.expires_at <=> OLD.expires_at
               AND NEW.user_id <=> OLD.user_id AND NEW.token_hash <=> OLD.token_hash)
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_auth_session_delete AFTER DELETE ON sessions FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('auth', 0, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_auth_role_insert AFTER INSERT ON user_roles FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('auth', 0, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_auth_role_update AFTER UPDATE ON user_roles FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('auth', 0, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_auth_role_delete AFTER DELETE ON user_roles FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('auth', 0, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);

CREATE TRIGGER cluster_tool_update AFTER UPDATE ON tools FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('tool', NEW.id, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_tool_delete AFTER DELETE ON tools FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('tool', OLD.id, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);

-- Once-only periodic work (payout expiry, the rate-limit sweep): one row per job. A worker of any
-- host claims the current period (FLOOR(UNIX_TIMESTAMP() / period seconds), by the database's
-- clock, so hosts agree) when no one claimed it yet and no other holder's lease is live; the lease
-- ends when the run does, or lapses after its time when the holder died, so another host takes over.
CREATE TABLE cluster_jobs (
    name        VARCHAR(64) NOT NULL PRIMARY KEY,
    holder      VARCHAR(128) NOT NULL DEFAULT '',
    lease_until DATETIME(6) NULL,
    period      BIGINT NOT NULL DEFAULT -1,
    runs        BIGINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB;

-- One row per run (a day's worth is kept): which holder ran which period, when. The primary key is
-- the "once per period" rule itself.
CREATE TABLE cluster_job_runs (
    name        VARCHAR(64) NOT NULL,
    period      BIGINT NOT NULL,
    holder      VARCHAR(128) NOT NULL,
    started_at  DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL,
    PRIMARY KEY (name, period),
    KEY cluster_job_runs_time (name, started_at)
) ENGINE=InnoDB;
