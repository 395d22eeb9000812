/*
 * Business rule "changegate: notify incident update"
 *   Table: Incident [incident]   Active: true   Advanced: true
 *   When: async   Order: 100   Insert: true   Update: true   Delete: false   Query: false
 *   Condition:
 *     !current.correlation_id.nil() && (current.operation() == 'insert' || current.state.changes() || current.priority.changes())
 *   changegate files incidents with a correlation_id; incidents without one are not its own.
 */
(function executeRule(current, previous /*null when async*/) {
  ChangegateOutbound.send(current);
})(current, previous);
