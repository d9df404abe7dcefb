-- Enrolled faces are now searched one scope (owner, collection, model, size) at a time: exactly below
-- ARGUS_VECTOR_EXACT_BELOW faces, else through the scope's own partial HNSW index, which the face repository
-- builds when the scope reaches that size. The former one-per-size indexes over every scope
-- (face_embeddings_hnsw_<dims>) no longer serve any search and only slow enrollment: dropped.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT indexname FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = 'face_embeddings' AND indexname ~ '^face_embeddings_hnsw_[0-9]+$'
  LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I', r.indexname);
  END LOOP;
END $$;
