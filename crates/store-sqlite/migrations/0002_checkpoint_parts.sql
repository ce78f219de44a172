-- 0002_checkpoint_parts: a checkpoint is stored in parts, because SQLite refuses a single
-- blob over 1 GB and a large deployment's checkpoint is bigger than that.

CREATE TABLE checkpoint_part (
    part     INTEGER PRIMARY KEY NOT NULL CHECK (part >= 0),
    revision INTEGER NOT NULL,
    data     BLOB NOT NULL
) STRICT;

INSERT INTO checkpoint_part (part, revision, data) SELECT 0, revision, blob FROM checkpoint;

DROP TABLE checkpoint;
