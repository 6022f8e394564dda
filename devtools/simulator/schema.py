"""The GraphQL schema of the Audit Trail's `auditData` query, as LivePerson documents it.

Only the documented arguments and record fields exist, so a query that asks for anything else
gets the `errors` answer a GraphQL server gives (validated by graphql-core, not by hand).
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

type Query {
  auditData(
    fromDate: String
    toDate: String
    first: Int
    offset: Int
    orderBy: [String]
    orderDirection: [String]
    users: [String]
    componentTypes: [String]
    language: String
    timezone: String
    lpa: Boolean
    automaticUpdates: Boolean
  ): [AuditData]
}
"""

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


def audit_schema() -> GraphQLSchema:
    return build_schema(AUDIT_SDL)
