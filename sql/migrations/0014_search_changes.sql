-- The change feed of the in-memory search engine (core/search.c, core/search_index): one row per
-- change of anything a search reads (a document, the tool's status, filters or counters, its tags,
-- its trending score). Each worker applies the rows past the last it saw before it answers, so a
-- change is seen by the next search in every worker.
--
-- Written by triggers, so a row is in the SAME transaction as the change whatever wrote it (the
-- transactions of publish, edit, delist and moderation, rating and download counters, trending,
-- bulk loads and direct SQL alike). Rows older than an hour are pruned by core/search.c; a worker
-- that fell further behind rebuilds its index.
CREATE TABLE search_changes (
    seq        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tool_id    BIGINT UNSIGNED NOT NULL,
    changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY search_changes_time (changed_at)
) ENGINE=InnoDB;

CREATE TRIGGER search_changes_document_insert AFTER INSERT ON search_documents FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (NEW.tool_id);
CREATE TRIGGER search_changes_document_update AFTER UPDATE ON search_documents FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (NEW.tool_id);
CREATE TRIGGER search_changes_document_delete AFTER DELETE ON search_documents FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (OLD.tool_id);

-- Only the columns a search reads: an edit of other columns (latest_version, rating_1..5) adds nothing.
CREATE TRIGGER search_changes_tool_update AFTER UPDATE ON tools FOR EACH ROW
    INSERT INTO search_changes (tool_id) SELECT NEW.id FROM DUAL
    WHERE NOT (NEW.status <=> OLD.status AND NEW.category <=> OLD.category
               AND NEW.pricing_model <=> OLD.pricing_model AND NEW.price_cents <=> OLD.price_cents
               AND NEW.developer_id <=> OLD.developer_id AND NEW.published_at <=> OLD.published_at
               AND NEW.downloads <=> OLD.downloads AND NEW.rating_count <=> OLD.rating_count
               AND NEW.rating_sum <=> OLD.rating_sum);

CREATE TRIGGER search_changes_tag_insert AFTER INSERT ON tool_tags FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (NEW.tool_id);
CREATE TRIGGER search_changes_tag_delete AFTER DELETE ON tool_tags FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (OLD.tool_id);

CREATE TRIGGER search_changes_activity_insert AFTER INSERT ON tool_activity FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (NEW.tool_id);
CREATE TRIGGER search_changes_activity_update AFTER UPDATE ON tool_activity FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (NEW.tool_id);
-- a score taken back to nothing deletes its row (the tool leaves trending)
CREATE TRIGGER search_changes_activity_delete AFTER DELETE ON tool_activity FOR EACH ROW
    INSERT INTO search_changes (tool_id) VALUES (OLD.tool_id);
