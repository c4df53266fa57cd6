"""The scale path for dedup: vectorised signatures, band buckets partitioned on disk, connected components."""
