"""The GraphQL schema of the Audit Trail's `auditData` query, as LivePerson documents it.

Only the documented arguments and record fields exist, so a query that asks for anything else
gets the `errors` answer a GraphQL server gives (validated by graphql-core, not by hand).

LivePerson documents the arguments but not their GraphQL types (fact sheet §1.2, §8 question 3):
the ordering arguments may be lists of strings, lists of enum values, or single values, and an
account may not know every optional argument. `audit_schema` builds the schema of one such reading,
so a query written for another gets the validation error a real server would send.
"""

from __future__ import annotations

from graphql import GraphQLSchema, build_schema

AUDIT_SDL = """
type AuditData {
  accountId: String
  objectType: String
  objectName: String
  actionType: String
  element: String
  oldValue: String
  newValue: String
  changeDate: String
  originator: String
  originatorLoginName: String
  originatorUserId: String
  originatorUserAgent: String
  originatorAuthType: String
  originatorIsLpa: Boolean
}

enum AuditOrderColumn {
  changeTimestamp
}

enum AuditOrderDirection {
  ASC
  DESC
}
"""

AUDIT_ARGUMENTS = {
    "fromDate": "String",
    "toDate": "String",
    "first": "Int",
    "offset": "Int",
    "orderBy": "[String]",
    "orderDirection": "[String]",
    "users": "[String]",
    "componentTypes": "[String]",
    "language": "String",
    "timezone": "String",
    "lpa": "Boolean",
    "automaticUpdates": "Boolean",
}
# The GraphQL types of (orderBy, orderDirection) under each reading of their syntax. "ignored" takes
# the documented lists and answers in the default order, newest first, whatever they say.
ORDERING_TYPES = {
    "string-list": ("[String]", "[String]"),
    "enum-list": ("[AuditOrderColumn]", "[AuditOrderDirection]"),
    "string": ("String", "String"),
    "enum": ("AuditOrderColumn", "AuditOrderDirection"),
    "ignored": ("[String]", "[String]"),
}
OPTIONAL_ARGUMENTS = ("lpa", "automaticUpdates", "language")  # the ones an account might not know

RECORD_FIELDS = (
    "accountId",
    "objectType",
    "objectName",
    "actionType",
    "element",
    "oldValue",
    "newValue",
    "changeDate",
    "originator",
    "originatorLoginName",
    "originatorUserId",
    "originatorUserAgent",
    "originatorAuthType",
    "originatorIsLpa",
)


def audit_schema(ordering: str = "string-list", unknown_arguments: tuple[str, ...] = ()) -> GraphQLSchema:
    """The schema of one reading: the ordering arguments typed as `ordering` says, without `unknown_arguments`."""
    types = dict(AUDIT_ARGUMENTS)
    types["orderBy"], types["orderDirection"] = ORDERING_TYPES[ordering]
    for name in unknown_arguments:
        types.pop(name)
    arguments = "\n".join(f"    {name}: {kind}" for name, kind in types.items())
    return build_schema(f"{AUDIT_SDL}\ntype Query {{\n  auditData(\n{arguments}\n  ): [AuditData]\n}}\n")
