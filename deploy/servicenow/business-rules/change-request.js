/*
 * Business rule "changegate: notify change update"
 *   Table: Change Request [change_request]   Active: true   Advanced: true
 *   When: async   Order: 100   Insert: true   Update: true   Delete: false   Query: false
 *   Condition (evaluated in the transaction, before the async job is queued, so changes() is
 *   reliable here and must stay out of the script):
 *     !current.correlation_id.nil() && (current.operation() == 'insert' || current.state.changes() || current.approval.changes() || current.start_date.changes() || current.end_date.changes() || current.correlation_id.changes())
 *   Add `|| current.<field>.changes()` for every extra field a changegate gate rule reads
 *   (and list it in the property changegate.fields.change_request).
 */
(function executeRule(current, previous /*null when async*/) {
  ChangegateOutbound.send(current);
})(current, previous);
