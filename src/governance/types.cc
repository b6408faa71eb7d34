#include "governance/types.h"

namespace sy::gov {

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kUser:
      return "user";
    case KeyType::kAdmin:
      return "admin";
    case KeyType::kService:
      return "service";
  }
  return "user";
}

std::optional<KeyType> ParseKeyType(const std::string& s) {
  if (s == "user") return KeyType::kUser;
  if (s == "admin") return KeyType::kAdmin;
  if (s == "service") return KeyType::kService;
  return std::nullopt;
}

const char* BudgetPeriodName(BudgetPeriod p) {
  switch (p) {
    case BudgetPeriod::kNone:
      return "";
    case BudgetPeriod::kDaily:
      return "daily";
    case BudgetPeriod::kWeekly:
      return "weekly";
    case BudgetPeriod::kMonthly:
      return "monthly";
  }
  return "";
}

std::optional<BudgetPeriod> ParseBudgetPeriod(const std::string& s) {
  if (s.empty()) return BudgetPeriod::kNone;
  if (s == "daily") return BudgetPeriod::kDaily;
  if (s == "weekly") return BudgetPeriod::kWeekly;
  if (s == "monthly") return BudgetPeriod::kMonthly;
  return std::nullopt;
}

}  // namespace sy::gov
