-- Reviews (core/review_manager): one review per user per tool, the helpful/unhelpful votes on it and
-- the tool developer's public reply. The tool's rating counters (tools.rating_*) move in the same
-- transaction as every change here, through core/tool_record.

-- wilson is the lower bound of the 95% Wilson interval of helpful / (helpful + unhelpful), stored so
-- sort=helpful is an index walk over (tool_id, status, wilson, id) rather than a computed sort.
CREATE TABLE reviews (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tool_id         BIGINT UNSIGNED NOT NULL,
    user_id         BIGINT UNSIGNED NOT NULL,
    rating          TINYINT UNSIGNED NOT NULL,
    title           VARCHAR(120) NOT NULL,
    content         TEXT NOT NULL,
    -- the author had bought or used the tool when writing (or last editing) the review
    verified_purchase BOOLEAN NOT NULL DEFAULT FALSE,
    status          VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'visible',
    helpful_count   INT UNSIGNED NOT NULL DEFAULT 0,
    unhelpful_count INT UNSIGNED NOT NULL DEFAULT 0,
    wilson          DOUBLE NOT NULL DEFAULT 0,
    created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY reviews_tool_user (tool_id, user_id),
    KEY reviews_helpful (tool_id, status, wilson, id),
    KEY reviews_newest (tool_id, status, id),
    KEY reviews_user (user_id),
    CONSTRAINT reviews_tool FOREIGN KEY (tool_id) REFERENCES tools (id) ON DELETE CASCADE,
    CONSTRAINT reviews_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT reviews_rating CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT reviews_status CHECK (status IN ('visible', 'hidden', 'removed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One vote per (review, user): the primary key is the rule, a new vote replaces the old one.
CREATE TABLE review_votes (
    review_id  BIGINT UNSIGNED NOT NULL,
    user_id    BIGINT UNSIGNED NOT NULL,
    helpful    BOOLEAN NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (review_id, user_id),
    CONSTRAINT review_votes_review FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE CASCADE,
    CONSTRAINT review_votes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The tool developer's one public reply to a review (a second POST edits it).
CREATE TABLE review_responses (
    review_id    BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    developer_id BIGINT UNSIGNED NOT NULL,
    content      TEXT NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT review_responses_review FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE CASCADE,
    CONSTRAINT review_responses_developer FOREIGN KEY (developer_id) REFERENCES developers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
