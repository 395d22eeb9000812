// changegate shared-library step: changegateGate(environment: 'production', ...)
//
// 1. POSTs a `deployment.requested` message (changegate webhook format,
//    src/receivers/changegate-format.ts) to /hooks/jenkins, signed as a Standard Webhook;
// 2. waits in `input id: 'ChangeGate'` until changegate releases it (proceedEmpty) once the
//    change request is approved and in its window, or aborts it (rejected, canceled, expired).
// Around the deployment, call changegateGate.notify(type: 'deployment.started' / 'deployment.succeeded' / 'deployment.failed', environment: ...).
//
// Signing (Standard Webhooks): key = Base64-decode(secret without the "whsec_" prefix);
// webhook-signature = "v1," + Base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
// Test vector (the Standard Webhooks reference vector, checked in test/unit/deploy/ci-kit.test.ts):
//   secret    whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
//   id        msg_p5jXN8AQM9LWM0D4loKWxJek
//   timestamp 1614265330
//   body      {"test": 2432232314}
//   signature v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
//
// Needs: a global (trusted) shared library, so java.net/javax.crypto need no script approval;
// a "Secret text" credential holding the whsec_ secret; the Jenkins user changegate releases
// inputs as (ci.jenkins.<host> in changegate's config) listed as `submitter`.

import groovy.json.JsonOutput
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

def call(Map args = [:]) {
    String environment = args.environment ?: error('changegateGate: environment is required')
    String url = args.url ?: env.CHANGEGATE_URL ?: error('changegateGate: set url or CHANGEGATE_URL (https://<changegate>/hooks/jenkins)')
    String credentialsId = args.credentialsId ?: 'changegate-webhook-secret'
    String inputId = args.inputId ?: 'ChangeGate'
    String submitter = args.submitter ?: 'changegate'

    Map data = deploymentData(args, environment)
    data.callback = [kind: 'jenkins', url: env.BUILD_URL, inputId: inputId]
    Map reply = changegateSend(url, credentialsId, 'deployment.requested', data)
    echo "changegate: waiting for change approval (${reply.ids ?: reply.status})"

    // Released by changegate with POST {BUILD_URL}input/ChangeGate/proceedEmpty, or aborted.
    input id: inputId, message: "Waiting for the ServiceNow change request for ${environment}", ok: 'Deploy', submitter: submitter
}

/** Report a lifecycle event: deployment.started, deployment.succeeded, deployment.failed. */
def notify(Map args = [:]) {
    String type = args.type ?: error('changegateGate.notify: type is required')
    String environment = args.environment ?: error('changegateGate.notify: environment is required')
    String url = args.url ?: env.CHANGEGATE_URL
    changegateSend(url, args.credentialsId ?: 'changegate-webhook-secret', type, deploymentData(args, environment))
}

Map deploymentData(Map args, String environment) {
    String project = args.project ?: env.JOB_NAME
    Map data = [
        project     : project,
        environment : environment,
        // One change request per deployment, however often this build is re-run: default to the
        // commit when known, so a rebuild of the same commit reuses the CR.
        deploymentId: args.deploymentId ?: "${env.GIT_COMMIT ?: env.BUILD_TAG}-${environment}".toString(),
        run         : [id: env.BUILD_TAG, url: env.BUILD_URL, name: "${env.JOB_NAME} #${env.BUILD_NUMBER}".toString()],
        commit      : [sha: env.GIT_COMMIT, ref: env.GIT_BRANCH],
        actor       : args.actor ?: currentBuild.getBuildCauses('hudson.model.Cause$UserIdCause')?.find()?.userId,
    ]
    if (args.changeNumber) data.changeNumber = args.changeNumber
    if (args.emergency != null) data.emergency = args.emergency as boolean
    if (args.labels) data.labels = args.labels
    if (args.description) data.description = args.description
    return pruneNulls(data)
}

Map changegateSend(String url, String credentialsId, String type, Map data) {
    String body = JsonOutput.toJson([type: type, timestamp: isoNow(), data: data])
    String id = UUID.randomUUID().toString()
    String timestamp = String.valueOf((long) (System.currentTimeMillis() / 1000))
    withCredentials([string(credentialsId: credentialsId, variable: 'CHANGEGATE_SECRET')]) {
        String signature = sign(env.CHANGEGATE_SECRET, id, timestamp, body)
        // Redeliver on 503 (Kafka unavailable): the same webhook-id is answered 200 if it landed.
        retry(5) {
            Map response = post(url, id, timestamp, signature, body)
            if (response.status == 503) { sleep(time: 5, unit: 'SECONDS'); error("changegate: 503 ${response.text}") }
            if (response.status >= 300) { error("changegate answered ${response.status}: ${response.text}") }
            return new groovy.json.JsonSlurperClassic().parseText(response.text ?: '{}')
        }
    }
}

@NonCPS
static String sign(String secret, String id, String timestamp, String body) {
    String encoded = secret.startsWith('whsec_') ? secret.substring(6) : secret
    Mac mac = Mac.getInstance('HmacSHA256')
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(encoded), 'HmacSHA256'))
    byte[] digest = mac.doFinal("${id}.${timestamp}.${body}".toString().getBytes('UTF-8'))
    return 'v1,' + Base64.getEncoder().encodeToString(digest)
}

@NonCPS
static Map post(String url, String id, String timestamp, String signature, String body) {
    HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection()
    connection.requestMethod = 'POST'
    connection.doOutput = true
    connection.connectTimeout = 10000
    connection.readTimeout = 10000
    connection.setRequestProperty('Content-Type', 'application/json; charset=utf-8')
    connection.setRequestProperty('webhook-id', id)
    connection.setRequestProperty('webhook-timestamp', timestamp)
    connection.setRequestProperty('webhook-signature', signature)
    connection.outputStream.withCloseable { it.write(body.getBytes('UTF-8')) }
    int status = connection.responseCode
    InputStream stream = status >= 400 ? connection.errorStream : connection.inputStream
    String text = stream?.getText('UTF-8') ?: ''
    return [status: status, text: text]
}

@NonCPS
static String isoNow() {
    return java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()
}

@NonCPS
static Map pruneNulls(Map map) {
    Map out = [:]
    map.each { k, v ->
        if (v instanceof Map) { Map inner = pruneNulls(v); if (!inner.isEmpty()) out[k] = inner }
        else if (v != null && v != '') out[k] = v
    }
    return out
}
