/// The OpenAPI 3.1 document of Baton's HTTP API, served at `GET /openapi.json`. A test checks
/// that every registered route is in it and that real responses match its schemas.
enum OpenAPIDocument {
    static let json: String = #"""
    {
      "openapi": "3.1.0",
      "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
      "info": {
        "title": "Baton",
        "version": "0.4.0",
        "description": "Baton's HTTP API: create and drive phased sessions, complete or fail their tasks, and watch progress."
      },
      "tags": [{"name": "sessions"}, {"name": "tasks"}, {"name": "system"}],
      "paths": {
        "/api/sessions": {
          "post": {
            "operationId": "createSession",
            "summary": "Create a session",
            "description": "Creates a session and queues its first step. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["sessions"],
            "security": [{"bearer": []}],
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateSession"}}}
            },
            "responses": {
              "201": {
                "description": "The session was created.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}},
                "headers": {
                  "Location": {"description": "The new session's URL, `/api/sessions/{id}`.", "schema": {"type": "string"}}
                }
              },
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "A session with that id exists (`conflict`)."
              },
              "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          },
          "get": {
            "operationId": "listSessions",
            "summary": "List sessions",
            "description": "Lists sessions a page at a time. Pass the `nextCursor` of a page as `cursor` to get the next one.",
            "tags": ["sessions"],
            "parameters": [
              {
                "name": "status",
                "in": "query",
                "required": false,
                "description": "Only sessions in this status.",
                "schema": {"$ref": "#/components/schemas/SessionStatus"}
              },
              {
                "name": "kind",
                "in": "query",
                "required": false,
                "description": "Only sessions of this kind.",
                "schema": {"type": "string"}
              },
              {
                "name": "limit",
                "in": "query",
                "required": false,
                "description": "The most sessions to return.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}
              },
              {
                "name": "cursor",
                "in": "query",
                "required": false,
                "description": "The `nextCursor` of the previous page.",
                "schema": {"type": "string"}
              }
            ],
            "responses": {
              "200": {
                "description": "A page of sessions.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionPage"}}}
              },
              "400": {"$ref": "#/components/responses/BadRequest"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/sessions/{id}": {
          "get": {
            "operationId": "getSession",
            "summary": "Get a session",
            "description": "The session with its progress, steps and attempts.",
            "tags": ["sessions"],
            "parameters": [
              {"$ref": "#/components/parameters/SessionId"}
            ],
            "responses": {
              "200": {
                "description": "The session.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionDetail"}}}
              },
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/sessions/{id}/progress": {
          "get": {
            "operationId": "getProgress",
            "summary": "Get (or wait for) a session's progress",
            "description": "Returns the session's progress. With `wait`, holds the request (long poll) until the progress version differs from the one the caller has seen (`since`, or the version in `If-None-Match`), or until `wait` seconds pass.",
            "tags": ["sessions"],
            "parameters": [
              {"$ref": "#/components/parameters/SessionId"},
              {
                "name": "wait",
                "in": "query",
                "required": false,
                "description": "Seconds to hold the request until the progress version differs from the caller's.",
                "schema": {"type": "number", "minimum": 0, "maximum": 300}
              },
              {
                "name": "since",
                "in": "query",
                "required": false,
                "description": "The progress version the caller has seen.",
                "schema": {"type": "integer", "format": "int64"}
              },
              {
                "name": "If-None-Match",
                "in": "header",
                "required": false,
                "description": "An ETag from an earlier response.",
                "schema": {"type": "string"}
              }
            ],
            "responses": {
              "200": {
                "description": "The progress.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Progress"}}},
                "headers": {
                  "ETag": {
                    "description": "Identifies this progress version; send it back in `If-None-Match`.",
                    "schema": {"type": "string"}
                  }
                }
              },
              "304": {
                "description": "Not modified: `If-None-Match` still matches after the wait. No body.",
                "headers": {"ETag": {"description": "The unchanged progress version's ETag.", "schema": {"type": "string"}}}
              },
              "400": {"$ref": "#/components/responses/BadRequest"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/sessions/{id}/proceed-next-phase": {
          "post": {
            "operationId": "proceedSession",
            "summary": "Proceed past the gate",
            "description": "Moves a session waiting at the gate (AWAITING_PROCEED) on to its next step or phase. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["sessions"],
            "security": [{"bearer": []}],
            "parameters": [
              {"$ref": "#/components/parameters/SessionId"}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/SessionChanged"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "The session is not at the gate (`wrong_state`)."
              },
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/sessions/{id}/retry": {
          "post": {
            "operationId": "retrySession",
            "summary": "Retry a failed session",
            "description": "Requeues the failed step of a FAILED session. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["sessions"],
            "security": [{"bearer": []}],
            "parameters": [
              {"$ref": "#/components/parameters/SessionId"}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/SessionChanged"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "The session cannot be retried in its state (`wrong_state`)."
              },
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/sessions/{id}/cancel": {
          "post": {
            "operationId": "cancelSession",
            "summary": "Cancel a session",
            "description": "Cancels a session that has not finished. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["sessions"],
            "security": [{"bearer": []}],
            "parameters": [
              {"$ref": "#/components/parameters/SessionId"}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/SessionChanged"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "The session cannot be cancelled in its state (`wrong_state`)."
              },
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/tasks/{id}/complete": {
          "post": {
            "operationId": "completeTask",
            "summary": "Complete a running task",
            "description": "Records the result of a RUNNING step (for steps run outside the worker) and advances the session. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["tasks"],
            "security": [{"bearer": []}],
            "parameters": [
              {"$ref": "#/components/parameters/TaskId"}
            ],
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompleteTask"}}}
            },
            "responses": {
              "200": {"$ref": "#/components/responses/SessionChanged"},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "The task is not RUNNING (`wrong_state`)."
              },
              "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/tasks/{id}/fail": {
          "post": {
            "operationId": "failTask",
            "summary": "Fail a running task",
            "description": "Records the failure of a RUNNING step; the retry policy decides whether it runs again. Needs `Authorization: Bearer <token>` only when the server has BATON_API_TOKEN set; otherwise the API is open.",
            "tags": ["tasks"],
            "security": [{"bearer": []}],
            "parameters": [
              {"$ref": "#/components/parameters/TaskId"}
            ],
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FailTask"}}}
            },
            "responses": {
              "200": {"$ref": "#/components/responses/SessionChanged"},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "409": {
                "$ref": "#/components/responses/Conflict",
                "description": "The task is not RUNNING (`wrong_state`)."
              },
              "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/api/stats": {
          "get": {
            "operationId": "getStats",
            "summary": "Counts",
            "description": "Counts of sessions, tasks and attempts.",
            "tags": ["system"],
            "responses": {
              "200": {
                "description": "The counts.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}
              },
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/healthz": {
          "get": {
            "operationId": "getHealth",
            "summary": "Health check",
            "description": "Answers 200 when the server can reach the database.",
            "tags": ["system"],
            "responses": {
              "200": {
                "description": "Healthy.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
              },
              "503": {"$ref": "#/components/responses/Unavailable"}
            }
          }
        },
        "/metrics": {
          "get": {
            "operationId": "getMetrics",
            "summary": "Prometheus metrics",
            "description": "Metrics in the Prometheus text exposition format.",
            "tags": ["system"],
            "responses": {"200": {"description": "The metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
          }
        },
        "/openapi.json": {
          "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "description": "The OpenAPI document of this API.",
            "tags": ["system"],
            "responses": {
              "200": {"description": "The document.", "content": {"application/json": {"schema": {"type": "object"}}}}
            }
          }
        },
        "/": {
          "get": {
            "operationId": "getDashboard",
            "summary": "Dashboard",
            "description": "The HTML dashboard.",
            "tags": ["system"],
            "responses": {
              "200": {"description": "The dashboard page.", "content": {"text/html": {"schema": {"type": "string"}}}}
            }
          }
        }
      },
      "components": {
        "securitySchemes": {
          "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The token in BATON_API_TOKEN. Needed for POST operations only when the server has BATON_API_TOKEN set; without it the API is open."
          }
        },
        "parameters": {
          "SessionId": {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The session id.",
            "schema": {"type": "string"}
          },
          "TaskId": {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The task id.",
            "schema": {"type": "integer", "format": "int64"}
          }
        },
        "schemas": {
          "SessionStatus": {
            "type": "string",
            "enum": [
              "PENDING",
              "THINKING",
              "EXECUTING",
              "INTEGRATING",
              "AWAITING_PROCEED",
              "COMPLETED",
              "FAILED",
              "CANCELLED"
            ]
          },
          "Step": {"type": "string", "enum": ["THINK", "EXECUTE", "INTEGRATE"]},
          "TaskStatus": {"type": "string", "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]},
          "CreateSession": {
            "type": "object",
            "additionalProperties": false,
            "required": ["phases"],
            "properties": {
              "phases": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000,
                "description": "How many phases the session runs."
              },
              "input": {"description": "Any JSON value, handed to the steps."},
              "id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The session id; the server picks one when absent."
              },
              "kind": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "The session's kind; it selects the handler that runs the steps."
              },
              "autoSteps": {"type": "boolean", "description": "Move from step to step within a phase without a proceed."},
              "autoPhases": {"type": "boolean", "description": "Move from phase to phase without a proceed."}
            }
          },
          "CompleteTask": {
            "type": "object",
            "additionalProperties": false,
            "required": ["result"],
            "properties": {"result": {"description": "The step's result: any JSON value."}}
          },
          "FailTask": {
            "type": "object",
            "additionalProperties": false,
            "required": ["error"],
            "properties": {"error": {"type": "string", "minLength": 1, "description": "What went wrong."}}
          },
          "Session": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "id",
              "kind",
              "status",
              "phase",
              "totalPhases",
              "autoSteps",
              "autoPhases",
              "input",
              "version",
              "createdAt",
              "updatedAt"
            ],
            "properties": {
              "id": {"type": "string"},
              "kind": {"type": "string"},
              "status": {"$ref": "#/components/schemas/SessionStatus"},
              "phase": {"type": "integer"},
              "step": {"$ref": "#/components/schemas/Step", "description": "Absent when the session is not in a step."},
              "totalPhases": {"type": "integer"},
              "autoSteps": {"type": "boolean"},
              "autoPhases": {"type": "boolean"},
              "input": {},
              "error": {"type": "string", "description": "Present when the session failed."},
              "version": {"type": "integer", "format": "int64"},
              "createdAt": {"type": "string", "format": "date-time"},
              "updatedAt": {"type": "string", "format": "date-time"}
            }
          },
          "Progress": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "sessionId",
              "status",
              "currentPhase",
              "completedPhases",
              "totalPhases",
              "canProceed",
              "requiresManualTrigger",
              "version",
              "updatedAt"
            ],
            "properties": {
              "sessionId": {"type": "string"},
              "status": {"$ref": "#/components/schemas/SessionStatus"},
              "currentPhase": {"type": "integer"},
              "currentStep": {"$ref": "#/components/schemas/Step", "description": "Absent once COMPLETED."},
              "completedPhases": {"type": "integer"},
              "totalPhases": {"type": "integer"},
              "canProceed": {"type": "boolean", "description": "The session waits at the gate; proceed-next-phase moves it on."},
              "requiresManualTrigger": {
                "type": "boolean",
                "description": "The session will stop at a gate that needs a person before it completes."
              },
              "version": {"type": "integer", "format": "int64", "description": "Changes whenever the session changes."},
              "updatedAt": {"type": "string"}
            }
          },
          "Attempt": {
            "type": "object",
            "additionalProperties": false,
            "required": ["attempt", "outcome", "finishedAt"],
            "properties": {
              "attempt": {"type": "integer"},
              "workerId": {"type": "string"},
              "outcome": {"type": "string", "enum": ["SUCCEEDED", "FAILED", "RESCUED", "DISCARDED"]},
              "startedAt": {"type": "string"},
              "finishedAt": {"type": "string"},
              "input": {},
              "output": {},
              "error": {"type": "string"}
            }
          },
          "StepRecord": {
            "type": "object",
            "additionalProperties": false,
            "required": ["taskId", "phase", "step", "status", "attempt", "runAt", "attempts"],
            "properties": {
              "taskId": {"type": "integer", "format": "int64"},
              "phase": {"type": "integer"},
              "step": {"$ref": "#/components/schemas/Step"},
              "status": {"$ref": "#/components/schemas/TaskStatus"},
              "attempt": {"type": "integer"},
              "runAt": {"type": "string"},
              "workerId": {"type": "string"},
              "startedAt": {"type": "string"},
              "finishedAt": {"type": "string"},
              "result": {},
              "error": {"type": "string"},
              "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}
            }
          },
          "SessionDetail": {
            "type": "object",
            "additionalProperties": false,
            "required": ["session", "progress", "steps"],
            "properties": {
              "session": {"$ref": "#/components/schemas/Session"},
              "progress": {"$ref": "#/components/schemas/Progress"},
              "steps": {"type": "array", "items": {"$ref": "#/components/schemas/StepRecord"}}
            }
          },
          "SessionPage": {
            "type": "object",
            "additionalProperties": false,
            "required": ["sessions"],
            "properties": {
              "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
              "nextCursor": {"type": "string", "description": "Pass as `cursor` for the next page; absent on the last page."}
            }
          },
          "Stats": {
            "type": "object",
            "additionalProperties": false,
            "required": ["sessionsByStatus", "tasksByStatus", "readyTasks", "awaitingProceed", "attemptsByOutcome"],
            "properties": {
              "sessionsByStatus": {"type": "object", "additionalProperties": {"type": "integer"}},
              "tasksByStatus": {"type": "object", "additionalProperties": {"type": "integer"}},
              "readyTasks": {"type": "integer", "description": "PENDING tasks whose time has come."},
              "awaitingProceed": {"type": "integer", "description": "Sessions waiting at the gate."},
              "attemptsByOutcome": {"type": "object", "additionalProperties": {"type": "integer"}}
            }
          },
          "Health": {
            "type": "object",
            "additionalProperties": false,
            "required": ["status", "database"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}, "database": {"type": "string", "enum": ["ok"]}}
          },
          "Error": {
            "description": "Every error response has this shape.",
            "type": "object",
            "additionalProperties": false,
            "required": ["error"],
            "properties": {
              "error": {
                "type": "object",
                "additionalProperties": false,
                "required": ["code", "message"],
                "properties": {
                  "code": {
                    "type": "string",
                    "description": "One of: bad_json, bad_parameter, unknown_field (400); unauthorized (401); not_found (404); method_not_allowed (405); conflict, wrong_state (409); body_too_large (413); database_unavailable (503); internal (500)."
                  },
                  "message": {"type": "string", "description": "For people; may change."}
                }
              }
            }
          }
        },
        "responses": {
          "SessionChanged": {
            "description": "The session after the change.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}
          },
          "BadRequest": {
            "description": "The request is malformed: bad JSON (`bad_json`), a bad path or query parameter (`bad_parameter`), or an unknown body field (`unknown_field`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "Unauthorized": {
            "description": "A bearer token is required and was missing or wrong (`unauthorized`). Only when the server has BATON_API_TOKEN set.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "Conflict": {
            "description": "The session or task is not in a state that allows this (`wrong_state`, `conflict`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "TooLarge": {
            "description": "The request body is too large (`body_too_large`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "Unavailable": {
            "description": "The database is unavailable (`database_unavailable`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "NotFound": {
            "description": "No such session or task (`not_found`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          }
        }
      }
    }
    """#
}
