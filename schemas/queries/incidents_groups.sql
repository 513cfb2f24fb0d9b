-- correlator incidents: the failure groups active since a time, largest first.
SELECT fingerprint, root_cause_type, message_template, example_message, in_app_frame, failures, is_new, group_first_seen,
       group_last_seen, models, services, category, error_class, example_error_ids
FROM ${database}.error_groups(since = {since:DateTime64(6)})
ORDER BY failures DESC
LIMIT 20
