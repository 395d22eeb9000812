/*
 * changegate outbound message: Script Include "ChangegateOutbound" (ES5, runs in ServiceNow's
 * Rhino engine; no let/const, no arrow functions, no template strings).
 *
 * Install: System Definition > Script Includes > New
 *   Name: ChangegateOutbound   Application: Global (or your scoped app)
 *   Client callable: false     Accessible from: This application scope only
 *   Script: this whole file.
 * The business rules in business-rules/ call ChangegateOutbound.send(current).
 *
 * What it sends is exactly what changegate's /hooks/servicenow accepts
 * (src/providers/servicenow/receiver/format.ts) and what the sandbox instance sends
 * (src/sandbox/servicenow/business-rules.ts):
 *
 *   POST <changegate.url>
 *   Content-Type: application/json; charset=utf-8
 *   webhook-id: <gs.generateGUID()>
 *   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
 *
 *   {"type":"change.updated","timestamp":"2026-11-25T09:00:00Z",
 *    "data":{"table":"change_request","sys_id":"...","number":"CHG0010001","state":"-1",
 *            "approval":"approved","correlation_id":"github/acme/api/run-1-production",
 *            "start_date":"2026-11-25 09:00:00","end_date":"2026-11-25 11:00:00",
 *            "sys_updated_on":"2026-11-25 09:00:00","sys_mod_count":"4", ...extra fields}}
 *
 * Standard Webhooks signing: key = the base64 part of the whsec_ secret (GlideCertificateEncryption
 * wants the key base64-encoded, and returns the MAC base64-encoded: exactly the v1 format).
 * Shared test vector (the Standard Webhooks reference vector; test/unit/deploy/servicenow-kit.test.ts):
 *   secret    whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 *   id        msg_p5jXN8AQM9LWM0D4loKWxJek
 *   timestamp 1614265330
 *   body      {"test": 2432232314}
 *   signature v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
 */
var ChangegateOutbound = {
  /** Fields every message carries; getValue() strings, null when empty. */
  KNOWN_FIELDS: [
    'number',
    'state',
    'approval',
    'correlation_id',
    'start_date',
    'end_date',
    'sys_updated_on',
    'sys_mod_count',
  ],

  /** Fields sent when the property changegate.fields.<table> is not set. */
  DEFAULT_EXTRA_FIELDS: {
    change_request: 'type,risk,impact,assignment_group,cmdb_ci,close_code',
    incident: 'priority,impact,urgency,assignment_group,cmdb_ci,close_code',
  },

  TYPES: { change_request: 'change.updated', incident: 'incident.updated' },

  /**
   * The Standard-Webhooks signature header value.
   * @param secret the whsec_ secret (the prefix is optional)
   * @param mac a GlideCertificateEncryption (global) or CertificateEncryption (scoped)
   */
  signature: function (secret, id, timestamp, body, mac) {
    var key = secret.indexOf('whsec_') === 0 ? secret.substring(6) : secret;
    return 'v1,' + mac.generateMac(key, 'HmacSHA256', id + '.' + timestamp + '.' + body);
  },

  /**
   * The message body for one record, serialized once (it is signed as is).
   * @param record a GlideRecord (current)
   * @param table its table name
   * @param extraFields comma-separated field names to add
   * @param isoNow the send time, ISO 8601 UTC
   */
  body: function (record, table, extraFields, isoNow) {
    var data = { table: table, sys_id: record.getUniqueValue() };
    var names = this.KNOWN_FIELDS.concat(String(extraFields || '').split(','));
    for (var i = 0; i < names.length; i++) {
      var name = String(names[i]).replace(/^\s+|\s+$/g, '');
      if (!name || data.hasOwnProperty(name)) continue;
      var value = record.getValue(name);
      data[name] = value === null || value === undefined ? null : String(value);
    }
    return JSON.stringify({
      type: this.TYPES[table] || 'record.updated',
      timestamp: isoNow,
      data: data,
    });
  },

  /** GlideDateTime.getValue() is "YYYY-MM-DD HH:mm:ss" in UTC. */
  isoOf: function (glideDateTime) {
    return String(glideDateTime.getValue()).replace(' ', 'T') + 'Z';
  },

  /** The MAC API of the scope we run in. */
  newMac: function () {
    return typeof GlideCertificateEncryption !== 'undefined'
      ? new GlideCertificateEncryption()
      : new CertificateEncryption();
  },

  /**
   * Sign and POST one record to changegate. Called from an async business rule: the
   * transaction has already answered, and executeAsync() does not hold the worker thread.
   * changegate answers 202 (accepted), 200 (duplicate) or 503 (retry); a lost message is
   * recovered with `changegate reconcile`.
   * @returns the webhook-id, or null when the properties are not set
   */
  send: function (current) {
    var url = gs.getProperty('changegate.url');
    var secret = gs.getProperty('changegate.secret');
    if (!url || !secret) {
      gs.warn('changegate: set the system properties changegate.url and changegate.secret');
      return null;
    }
    var table = current.getTableName();
    var extra = gs.getProperty(
      'changegate.fields.' + table,
      this.DEFAULT_EXTRA_FIELDS[table] || '',
    );
    var now = new GlideDateTime();
    var timestamp = String(Math.floor(now.getNumericValue() / 1000));
    var id = gs.generateGUID();
    var body = this.body(current, table, extra, this.isoOf(now));

    var request = new sn_ws.RESTMessageV2();
    request.setEndpoint(url);
    request.setHttpMethod('post');
    request.setRequestHeader('Content-Type', 'application/json; charset=utf-8');
    request.setRequestHeader('webhook-id', id);
    request.setRequestHeader('webhook-timestamp', timestamp);
    request.setRequestHeader(
      'webhook-signature',
      this.signature(secret, id, timestamp, body, this.newMac()),
    );
    request.setRequestBody(body);
    request.setHttpTimeout(10000);
    // changegate inside a private network: reach it through a MID Server.
    var midServer = gs.getProperty('changegate.mid_server', '');
    if (midServer) request.setMIDServer(midServer);
    request.executeAsync();
    return id;
  },

  type: 'ChangegateOutbound',
};
