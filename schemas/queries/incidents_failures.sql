-- correlator incidents: one pass over the window's failures, three answers (GROUPING SETS):
-- the totals, each class with its newest example, each class and model.
SELECT
    multiIf(grouping(category, error_class, model) = 0, 'class_and_model',
            grouping(category, error_class) = 0, 'class', 'total') AS answer,
    category, error_class, model,
    count() AS failures,
    countIf(error_class = 'unknown') AS still_unknown,
    sum(reclassified) AS reclassified,
    min(first_seen) AS since,
    max(first_seen) AS latest,
    argMax(error_id, first_seen) AS newest_error_id,
    argMax(model, first_seen) AS newest_model,
    argMax(root_cause_type, first_seen) AS newest_root_cause_type,
    substring(replaceAll(argMax(root_cause_message, first_seen), '\n', ' '), 1, 120) AS newest_root_cause
FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
GROUP BY GROUPING SETS ((category, error_class, model), (category, error_class), ())
ORDER BY answer, failures DESC, category, error_class, model
