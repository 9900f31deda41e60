-- The change feed also names a tool when a column its search-result summary shows changes (its
-- slug, name, summary, currency, period, latest version, rating distribution), not only the columns a
-- search filters or ranks by: each worker keeps the summaries of the tools its searches returned
-- (core/summary_cache) and forgets one when the feed names it.
DROP TRIGGER IF EXISTS search_changes_tool_update;
CREATE TRIGGER search_changes_tool_update AFTER UPDATE ON tools FOR EACH ROW
    INSERT INTO search_changes (tool_id) SELECT NEW.id FROM DUAL
    WHERE NOT (NEW.status <=> OLD.status AND NEW.category <=> OLD.category
               AND NEW.pricing_model <=> OLD.pricing_model AND NEW.price_cents <=> OLD.price_cents
               AND NEW.developer_id <=> OLD.developer_id AND NEW.published_at <=> OLD.published_at
               AND NEW.downloads <=> OLD.downloads AND NEW.rating_count <=> OLD.rating_count
               AND NEW.rating_sum <=> OLD.rating_sum
               AND NEW.slug <=> OLD.slug AND NEW.name <=> OLD.name AND NEW.summary <=> OLD.summary
               AND NEW.currency <=> OLD.currency AND NEW.period_days <=> OLD.period_days
               AND NEW.latest_version <=> OLD.latest_version
               AND NEW.rating_1 <=> OLD.rating_1 AND NEW.rating_2 <=> OLD.rating_2
               AND NEW.rating_3 <=> OLD.rating_3 AND NEW.rating_4 <=> OLD.rating_4
               AND NEW.rating_5 <=> OLD.rating_5);
