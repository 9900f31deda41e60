-- Review limits and ratings.
--
-- core/rate_limit: how often an account may do an action (creating a review: review_rate_limit per
-- sliding hour). rate_limit_events holds one row per action done, counted until counts_until
-- (created_at + the window); deleting what the action made (a review) leaves its event, so the
-- allowance is not given back. rate_limit_holds has one row per (user, action) whose lock, taken
-- first in the action's transaction, serialises one user's concurrent attempts, so parallel requests
-- cannot all see room under the limit; takes counts the actions done. Expired events are swept.
CREATE TABLE rate_limit_holds (
    user_id    BIGINT UNSIGNED NOT NULL,
    action     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    takes      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, action)
) ENGINE=InnoDB;

CREATE TABLE rate_limit_events (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    action       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    counts_until DATETIME(6) NOT NULL,
    KEY rate_limit_events_user (user_id, action, counts_until),
    KEY rate_limit_events_expiry (counts_until)
) ENGINE=InnoDB;

-- core/tool_record: the count and sum of ALL visible reviews of all tools, the global mean C of the
-- Bayesian rating. One row, moved by tool_record_rating_move in the same transaction as each tool's
-- own counters, so C stays exact without a scan of reviews. Started from a recount.
CREATE TABLE rating_totals (
    id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    rating_count BIGINT UNSIGNED NOT NULL,
    rating_sum   BIGINT UNSIGNED NOT NULL,
    CONSTRAINT rating_totals_one_row CHECK (id = 1)
) ENGINE=InnoDB;

INSERT INTO rating_totals (id, rating_count, rating_sum)
    SELECT 1, COUNT(*), COALESCE(SUM(rating), 0) FROM reviews WHERE status = 'visible';
