-- The PostgreSQL twin of ../sqlite/0011_rollout_control.sql: a release's schedule and state, its
-- guard (halt on a failure rate), and the counts of final reports the guard reads.

-- JSON array of {"percent", "after_s"}; NULL without a schedule.
ALTER TABLE releases ADD COLUMN schedule TEXT;
-- The schedule's step applied last, from 1 (0 without a schedule).
ALTER TABLE releases ADD COLUMN rollout_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN rollout_state TEXT NOT NULL DEFAULT 'active'
    CHECK (rollout_state IN ('active', 'halted', 'completed'));
-- When the current rollout percentage applied; the next step's wait counts from it.
ALTER TABLE releases ADD COLUMN step_applied_at TIMESTAMPTZ;
-- The guard: halt above this many hundredths of a percent of failures (NULL: no guard), once
-- at least `min_reports` devices reported a final state.
ALTER TABLE releases ADD COLUMN halt_failure_bp BIGINT;
ALTER TABLE releases ADD COLUMN min_reports BIGINT;
-- Devices with a final report for the release, and those of them whose outcome is a failure.
ALTER TABLE releases ADD COLUMN final_reports BIGINT NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN failed_reports BIGINT NOT NULL DEFAULT 0;
-- The two counts when the guard last started counting (a resume starts it afresh).
ALTER TABLE releases ADD COLUMN guard_base_final BIGINT NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN guard_base_failed BIGINT NOT NULL DEFAULT 0;

UPDATE releases SET step_applied_at = updated_at;
UPDATE releases SET
    final_reports = (SELECT COUNT(DISTINCT u.device_id) FROM update_reports u
        WHERE u.release_id = releases.id AND u.state IN ('succeeded', 'failed', 'rolled_back')),
    failed_reports = (SELECT COUNT(DISTINCT u.device_id) FROM update_reports u
        WHERE u.release_id = releases.id AND u.state IN ('failed', 'rolled_back')
          AND NOT EXISTS (SELECT 1 FROM update_reports s WHERE s.release_id = u.release_id
              AND s.device_id = u.device_id AND s.state = 'succeeded'));

-- When the next step's wait has passed: NULL when no step is left or the release is halted.
-- The rollout controller's scan is `next_step_at <= now` on this index.
ALTER TABLE releases ADD COLUMN next_step_at TIMESTAMPTZ;
CREATE INDEX releases_next_step ON releases (next_step_at);
