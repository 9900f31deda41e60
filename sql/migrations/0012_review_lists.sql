-- A version of each tool's public review list, moved in the same transaction as every change a
-- reader of the list could see (a review written, edited, deleted, hidden or restored, a vote, a
-- developer's reply). Workers keep recent pages of the list in memory keyed by this version, so a
-- page is served from memory only while nothing in it can have changed (core/review_manager).
ALTER TABLE tools ADD COLUMN reviews_version BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- sort=rating (highest first, then newest) as an index walk like the other two orders, instead of
-- reading and sorting every visible review of the tool.
ALTER TABLE reviews ADD KEY reviews_rating (tool_id, status, rating, id);
