// SqlStore's chat sessions: chat_sessions(id, created_ms, updated_ms) and
// chat_messages(session_id, seq, role, content), schema version 2.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "common/json_writer.h"
#include "governance/sql_store.h"

namespace sy::gov::sql {

namespace {

// Messages per INSERT (4 parameters each). SQLite with fixed statements
// (Dialect::usage_fixed_statements) sends the rows left over one per
// statement, so that only two statements are ever prepared.
constexpr size_t kMessagesPerStatement = 64;

std::string InsertMessagesSql(size_t rows) {
  std::string sql = "INSERT INTO chat_messages (session_id, seq, role, content) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    const size_t p = i * 4;
    if (i > 0) sql += ", ";
    sql += "($" + std::to_string(p + 1) + ", $" + std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ", $" +
           std::to_string(p + 4) + ")";
  }
  return sql;
}

Status InsertMessages(Conn& c, const Dialect& dialect, const ChatSession& session) {
  static const std::string kFull = InsertMessagesSql(kMessagesPerStatement);
  static const std::string kOne = InsertMessagesSql(1);
  const auto& messages = session.messages;
  Params p;
  for (size_t first = 0; first < messages.size();) {
    size_t n = std::min(messages.size() - first, kMessagesPerStatement);
    if (n < kMessagesPerStatement && dialect.usage_fixed_statements) n = 1;
    p.clear();
    p.reserve(n * 4);
    for (size_t i = first; i < first + n; ++i) {
      // Views: the session outlives the statement.
      p.TextView(session.id).Int(static_cast<int64_t>(i)).TextView(messages[i].role).TextView(messages[i].content);
    }
    Status s = c.Exec(n == kMessagesPerStatement ? kFull : n == 1 ? kOne : InsertMessagesSql(n), p);
    if (!s.ok()) return s;
    first += n;
  }
  return Status::Ok();
}

}  // namespace

Status SqlStore::LoadSessions(std::vector<ChatSession>* out) {
  out->clear();
  return Txn(false, [&](Conn& c) {
    std::unordered_map<std::string, size_t> index;
    Status s = c.Exec("SELECT id, created_ms, updated_ms FROM chat_sessions ORDER BY created_ms, id", Params(),
                      [&](const Row& r) {
                        ChatSession& session = out->emplace_back();
                        session.id = r.Text(0);
                        session.created_ms = r.Int(1);
                        session.updated_ms = r.Int(2);
                        index.emplace(session.id, out->size() - 1);
                        return Status::Ok();
                      });
    if (!s.ok()) return s;
    return c.Exec("SELECT session_id, role, content FROM chat_messages ORDER BY session_id, seq", Params(),
                  [&](const Row& r) {
                    auto it = index.find(r.Text(0));
                    if (it == index.end()) return Status::Ok();  // no session row: not written by SaveSession
                    (*out)[it->second].messages.push_back(ChatMessage{r.Text(1), r.Text(2)});
                    return Status::Ok();
                  });
  });
}

Status SqlStore::SaveSession(const ChatSession& session) {
  if (session.id.empty()) return Status::Invalid("chat session id is empty");
  return Txn(true, [&](Conn& c) {
    Status s = c.Exec(
        "INSERT INTO chat_sessions (id, created_ms, updated_ms) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET created_ms = excluded.created_ms, updated_ms = excluded.updated_ms",
        Params().TextView(session.id).Int(session.created_ms).Int(session.updated_ms));
    if (s.ok()) s = c.Exec("DELETE FROM chat_messages WHERE session_id = $1", Params().TextView(session.id));
    if (s.ok()) s = InsertMessages(c, dialect(), session);
    return s;
  });
}

Status SqlStore::DeleteSession(const std::string& id) {
  return Txn(true, [&](Conn& c) {
    Status s = c.Exec("DELETE FROM chat_messages WHERE session_id = $1", Params().TextView(id));
    if (!s.ok()) return s;
    int64_t deleted = 0;
    s = c.Exec("DELETE FROM chat_sessions WHERE id = $1", Params().TextView(id), {}, &deleted);
    if (s.ok() && deleted == 0) return Status::NotFound("no chat session " + json::Quote(id));
    return s;
  });
}

}  // namespace sy::gov::sql
