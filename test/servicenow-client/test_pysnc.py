"""ServiceNow's own client (pysnc 1.2, PyPI) drives the sandbox as it drives a real instance.

Every assertion is about what pysnc sends and how it reads the answer (GlideRecord, Attachment):
encoded queries and paging with sysparm_offset/sysparm_limit, inserts that read back the table's
columns, updates of fields that were never set (pysnc only sends fields present in its last
read), display values, attachments and their Location, and the Table API's semantics for unknown
fields and tables. Run with scripts/pysnc.sh.
"""
from urllib.parse import parse_qs, urlparse

import pytest
from pysnc.exceptions import NotFoundException, RequestException, RoleException

SYS_ID_LEN = 32


def _new(client, table, **fields):
    gr = client.GlideRecord(table)
    gr.initialize()
    for name, value in fields.items():
        gr.set_value(name, value)
    sys_id = gr.insert()
    assert sys_id, f"insert into {table} returned no sys_id"
    return gr


def _get(client, table, sys_id):
    gr = client.GlideRecord(table)
    assert gr.get(sys_id), f"{table}/{sys_id} not found"
    return gr


# --- queries and paging ---------------------------------------------------------------------


def test_pages_an_encoded_query_with_offset_and_limit(client, tag, requests_log):
    names = [f"{tag}-{i}" for i in range(7)]
    for name in reversed(names):
        _new(client, "sys_user_group", name=name, description="paging")

    before = len(requests_log())
    gr = client.GlideRecord("sys_user_group", batch_size=3)
    gr.add_encoded_query(f"nameSTARTSWITH{tag}-^descriptionLIKEpag")
    gr.order_by("name")
    gr.query()
    assert gr.get_row_count() == 7
    assert [r.get_value("name") for r in gr] == names

    pages = [
        parse_qs(urlparse(f"https://x{r['path']}{r['query']}").query)
        for r in requests_log()[before:]
        if r["method"] == "GET" and r["path"].endswith("/table/sys_user_group")
    ]
    assert [(p["sysparm_offset"][0], p["sysparm_limit"][0]) for p in pages] == [
        ("0", "3"),
        ("3", "3"),
        ("6", "3"),
    ]


def test_or_conditions_and_descending_order(client, tag):
    for name in ("a", "b", "c"):
        _new(client, "sys_user_group", name=f"{tag}-{name}")
    gr = client.GlideRecord("sys_user_group")
    cond = gr.add_query("name", f"{tag}-a")
    cond.add_or_condition("name", f"{tag}-c")
    gr.order_by_desc("name")
    gr.query()
    assert [r.get_value("name") for r in gr] == [f"{tag}-c", f"{tag}-a"]


def test_a_query_term_on_a_field_the_table_lacks_is_ignored(client, tag):
    # glide.invalid_query.returns_no_rows is false on a fresh instance: the term is dropped.
    _new(client, "incident", short_description=tag)
    gr = client.GlideRecord("incident")
    gr.add_query("short_description", tag)
    gr.add_query("u_no_such_field", "anything")
    gr.query()
    assert gr.get_row_count() == 1


def test_an_unknown_table_is_a_400_invalid_table(client):
    gr = client.GlideRecord("u_no_such_table")
    with pytest.raises(RequestException) as err:
        gr.query()
    assert "Invalid table u_no_such_table" in str(err.value)


# --- insert, read back, update ----------------------------------------------------------------


def test_insert_answers_every_column_and_matches_a_fresh_read(client, tag):
    gr = _new(client, "incident", short_description=tag, bunk_field="ignored")
    inserted = set(gr.fields)
    # Columns the client never set come back too, empty or defaulted by the instance.
    for column in ("number", "state", "priority", "opened_by", "opened_at", "close_code",
                   "description", "assignment_group", "correlation_id", "sys_created_on"):
        assert column in inserted, f"{column} missing from the insert answer"
    assert gr.get_value("state") == "1"
    assert gr.get_value("close_code") == ""
    assert len(gr.get_value("opened_by")) == SYS_ID_LEN
    assert gr.get_value("number").startswith("INC")

    again = _get(client, "incident", gr.sys_id)
    assert set(again.fields) == inserted
    assert again.get_value("short_description") == tag


def test_a_field_the_table_lacks_is_ignored_on_insert_and_update(client, tag):
    gr = _new(client, "incident", short_description=tag, bunk_field="Bunk Field")
    assert gr.get_element("bunk_field") is None
    gr.u_changegate_failures = "3"
    gr.update()
    again = _get(client, "incident", gr.sys_id)
    assert again.get_element("bunk_field") is None
    assert again.get_element("u_changegate_failures") is None


def test_updates_a_field_that_was_empty_when_read(client, tag):
    # pysnc sends only fields it holds from the last read (serialize(changes_only=True)): a
    # column missing from the read would be dropped silently.
    created = _new(client, "incident", short_description=tag)
    gr = _get(client, "incident", created.sys_id)
    assert gr.get_value("description") == ""
    gr.description = "set after the read"
    gr.impact = "1"
    gr.urgency = "1"
    assert gr.changes()
    assert gr.update()
    again = _get(client, "incident", created.sys_id)
    assert again.get_value("description") == "set after the read"
    assert again.get_value("priority") == "1"
    assert int(again.get_value("sys_mod_count")) == 1


def test_deletes_a_record(client, tag):
    gr = _new(client, "sys_user_group", name=tag)
    sys_id = gr.sys_id
    assert gr.delete()
    assert not client.GlideRecord("sys_user_group").get(sys_id)


def test_updates_and_deletes_many_through_the_batch_api(client, tag, requests_log):
    for i in range(4):
        _new(client, "sys_user_group", name=f"{tag}-{i}", description="before")
    gr = client.GlideRecord("sys_user_group")
    gr.add_query("name", "STARTSWITH", tag)
    gr.query()
    for record in gr:
        record.description = "after"
    before = len(requests_log())
    assert gr.update_multiple()
    assert any(r["path"] == "/api/now/v1/batch" for r in requests_log()[before:])

    check = client.GlideRecord("sys_user_group")
    check.add_query("name", "STARTSWITH", tag)
    check.query()
    assert sorted(r.get_value("description") for r in check) == ["after"] * 4

    doomed = client.GlideRecord("sys_user_group")
    doomed.add_query("name", "STARTSWITH", tag)
    assert doomed.delete_multiple()
    gone = client.GlideRecord("sys_user_group")
    gone.add_query("name", "STARTSWITH", tag)
    gone.query()
    assert gone.get_row_count() == 0


# --- display values ---------------------------------------------------------------------------


def test_display_values_of_choices_and_references(client, tag):
    group = client.GlideRecord("sys_user_group")
    assert group.get("name", "Network")
    gr = _new(client, "incident", short_description=tag, assignment_group=group.sys_id,
              impact="2", urgency="2")
    again = _get(client, "incident", gr.sys_id)
    assert again.get_value("assignment_group") == group.sys_id
    assert again.get_display_value("assignment_group") == "Network"
    assert again.get_display_value("state") == "New"
    assert again.get_value("priority") == "3"
    assert again.get_display_value("priority") == "3 - Moderate"
    assert again.get_display_value("opened_by") == "changegate.integration"


def test_dot_walked_fields(client, tag):
    group = client.GlideRecord("sys_user_group")
    assert group.get("name", "Network")
    _new(client, "incident", short_description=tag, assignment_group=group.sys_id)
    gr = client.GlideRecord("incident")
    gr.add_query("assignment_group.name", "Network")
    gr.add_query("short_description", tag)
    gr.fields = ["number", "assignment_group.name"]
    gr.query()
    assert gr.next()
    assert gr.get_value("assignment_group.name") == "Network"
    assert gr.get_element("short_description") is None


# --- journal entries ------------------------------------------------------------------------


def test_journal_entries_read_back_empty_and_are_filtered_without_an_acl(client, tag):
    gr = _new(client, "incident", short_description=tag, work_notes=f"{tag} note")
    assert gr.get_value("work_notes") == ""
    # Without an ACL granting sys_journal_field, its rows are filtered out, not refused.
    journal = client.GlideRecord("sys_journal_field")
    journal.add_query("element_id", gr.sys_id)
    journal.query()
    assert journal.get_row_count() == 0
    assert not journal.next()


# --- attachments ------------------------------------------------------------------------------


def test_attachments_round_trip_with_the_versioned_location(client, tag):
    gr = _new(client, "incident", short_description=tag)
    assert len(gr.get_attachments()) == 0
    location = gr.add_attachment("evidence.txt", "line one\nline two")
    gr.add_attachment("evidence.bin", b"\x00\x01\x02", content_type="application/octet-stream")

    attachments = gr.get_attachments()
    assert len(attachments) == 2
    by_name = {a.file_name: a.sys_id for a in attachments}
    txt = client.Attachment("incident")
    assert txt.get(by_name["evidence.txt"])
    assert txt.get_link() == location
    assert txt.readlines() == ["line one", "line two"]
    binary = client.Attachment("incident")
    assert binary.get(by_name["evidence.bin"])
    assert binary.read() == b"\x00\x01\x02"
    binary.delete()
    assert len(gr.get_attachments()) == 1


def test_attaching_to_a_missing_record_is_404(client):
    with pytest.raises(NotFoundException):
        client.Attachment("incident").add_attachment("0" * SYS_ID_LEN, "x.txt", "data")


# --- approvals through the approver's record ----------------------------------------------------


def test_approval_is_the_approvers_record_not_the_change_field(client, client_as, tag):
    change = _new(client, "change_request", short_description=tag, correlation_id=tag)
    assert change.get_value("approval") == "not requested"
    change.state = "-4"  # Assess: the technical approval is requested
    change.update()

    # Writing the change's approval field approves nothing.
    change = _get(client, "change_request", change.sys_id)
    change.approval = "approved"
    change.update()
    change = _get(client, "change_request", change.sys_id)
    assert (change.get_value("state"), change.get_value("approval")) == ("-4", "requested")

    approvals = client.GlideRecord("sysapproval_approver")
    approvals.add_query("sysapproval", change.sys_id)
    approvals.add_query("state", "requested")
    approvals.query()
    assert approvals.get_row_count() == 1
    assert approvals.next()
    assert approvals.get_display_value("approver") == "Technical Approver"
    approval_id = approvals.sys_id

    # Someone else cannot decide it (ACL)...
    mine = _get(client, "sysapproval_approver", approval_id)
    mine.state = "approved"
    with pytest.raises(RoleException):
        mine.update()

    # ...the approver can, and the instance moves the change on to Authorize (CAB).
    tech = _get(client_as("tech.approver"), "sysapproval_approver", approval_id)
    tech.state = "approved"
    tech.comments = "looks safe"
    assert tech.update()
    change = _get(client, "change_request", change.sys_id)
    assert change.get_value("state") == "-3"
    assert change.get_display_value("state") == "Authorize"
    assert change.get_value("approval") == "requested"
