-- More changes other hosts must hear of through cluster_epochs (migration 0019).
-- A revoked API key is refused by every app host within a change-epoch poll: revoking (or deleting)
-- a key moves the 'auth' epoch of cluster_epochs like a revoked session does, which empties every
-- host's auth caches. Only a change of what authenticates moves it, not a key's last use.
CREATE TRIGGER cluster_auth_api_key_update AFTER UPDATE ON api_keys FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at)
    SELECT 'auth', 0, UTC_TIMESTAMP(6) FROM DUAL
    WHERE NOT (NEW.revoked_at <=> OLD.revoked_at AND NEW.expires_at <=> OLD.expires_at
               AND NEW.user_id <=> OLD.user_id AND NEW.key_hash <=> OLD.key_hash)
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
CREATE TRIGGER cluster_auth_api_key_delete AFTER DELETE ON api_keys FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at) VALUES ('auth', 0, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);

-- The global rating totals are part of every tool's Bayesian rating: a move of them (a review on any
-- host) empties every host's cached tool views ('tool', item 0: every tool).
CREATE TRIGGER cluster_rating_totals_update AFTER UPDATE ON rating_totals FOR EACH ROW
    INSERT INTO cluster_epochs (channel, item, changed_at)
    SELECT 'tool', 0, UTC_TIMESTAMP(6) FROM DUAL
    WHERE NOT (NEW.rating_count <=> OLD.rating_count AND NEW.rating_sum <=> OLD.rating_sum)
    ON DUPLICATE KEY UPDATE epoch = epoch + 1, changed_at = UTC_TIMESTAMP(6);
