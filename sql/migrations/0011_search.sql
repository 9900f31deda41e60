-- Search (core/search): one document per published tool for InnoDB FULLTEXT, the title words of
-- each document (short words and prefixes the FULLTEXT index cannot answer, suggestions), and the
-- vocabulary "did you mean" corrects towards. All three are written only by core/search.c, in the
-- same transaction as the change of the tool (publish, edit, delist); a drafted or delisted tool
-- has no document and no words.

-- The stopword list is fixed into a FULLTEXT index when the index is created: without one, "the",
-- "who" or "will" in a tool's name can be searched like any other word.
SET SESSION innodb_ft_enable_stopword = 0;

-- Every text column holds the normal form of core/search_text.h (lower-case words split on
-- anything but letters and digits, hyphens and underscores included), so the index and the query
-- agree on what a word is. title: name, slug and tags; body: summary, description and category.
-- name_norm answers "a tool named exactly the query" and name prefixes for suggestions.
CREATE TABLE search_documents (
    tool_id   BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    slug      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name_norm VARCHAR(80) NOT NULL,
    title     TEXT NOT NULL,
    body      MEDIUMTEXT NOT NULL,
    KEY search_documents_name (name_norm),
    FULLTEXT KEY search_documents_text (title, body),
    CONSTRAINT search_documents_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

SET SESSION innodb_ft_enable_stopword = DEFAULT;

-- The distinct title words of each published tool: (tool_id, word) answers "has this tool a title
-- word starting with js" for words shorter than the FULLTEXT minimum; (word) the prefix range reads
-- of suggestions and how many tools use a word.
CREATE TABLE search_terms (
    tool_id BIGINT UNSIGNED NOT NULL,
    word    VARCHAR(84) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (tool_id, word),
    KEY search_terms_word (word),
    CONSTRAINT search_terms_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Every word ever seen in a published title, and the category words. Only grows (a word whose
-- tools are gone is skipped when it has no search_terms row), so publishing never contends on a
-- counter. (chars, word) narrows "did you mean" to words of about the same length and first letter.
CREATE TABLE search_vocabulary (
    word     VARCHAR(84) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    chars    TINYINT UNSIGNED NOT NULL,
    category BOOLEAN NOT NULL DEFAULT FALSE,
    KEY search_vocabulary_length (chars, word)
) ENGINE=InnoDB;

INSERT INTO search_vocabulary (word, chars, category) VALUES
    ('text', 4, TRUE), ('data', 4, TRUE), ('developer', 9, TRUE), ('tools', 5, TRUE),
    ('finance', 7, TRUE), ('math', 4, TRUE), ('media', 5, TRUE), ('productivity', 12, TRUE),
    ('security', 8, TRUE), ('web', 3, TRUE), ('other', 5, TRUE);

-- Search reads a few narrow columns of many tools; the rows also hold descriptions, schemas and code.
-- Two indexes hold every column search filters, counts and sorts on, so those reads never touch the
-- rows: tools_search scans the published tools (search without text), tools_search_card looks one
-- tool up by id (the tools a text, word or tag matched; search names it with FORCE INDEX, because the
-- optimizer would otherwise read the row through the primary key).
ALTER TABLE tools
    ADD KEY tools_search (status, category, pricing_model, price_cents, rating_count, rating_sum, downloads,
                          published_at, developer_id),
    ADD KEY tools_search_card (id, status, category, pricing_model, price_cents, rating_count, rating_sum,
                               downloads, published_at, developer_id);
