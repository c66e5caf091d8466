// `planproof import-openapi`: a realistic spec becomes a draft plan that renders; broken or hostile
// specs end in exit 2 (or 0 with warnings), never a crash or a hang.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/paths.hpp"

namespace planproof {
namespace {

const std::filesystem::path data_dir = std::filesystem::path(::planproof::test::source_dir()) / "tests" / "cli" / "data";

// Every process is bounded: a hang shows up as exit 124, not as a stuck test run.
test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && timeout 20 " + ::planproof::test::planproof_executable() + " " + args);
}

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(cli_import, payments_spec_becomes_a_plan_that_renders) {
  test::temp_dir dir;
  const auto r = planproof(dir, "import-openapi '" + (data_dir / "payments.openapi.yaml").string() + "' -o plan.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto plan = test::read_file(dir / "plan.yaml");

  // Integration and auth: the first scheme the spec uses, the other noted; secrets by reference only.
  EXPECT_TRUE(contains(plan, "name: acme-payments-api")) << plan;
  EXPECT_TRUE(contains(plan, "system: Acme Payments API"));
  EXPECT_TRUE(contains(plan, "base_url: https://eu.api.acme-pay.test/v1"));
  EXPECT_TRUE(contains(plan, "method: api_key\n  header: X-Acme-Key\n  key: env:ACME_PAYMENTS_API_API_KEY  # TODO"));
  EXPECT_TRUE(contains(plan, "not imported; the plan has one auth method): oauth"));
  EXPECT_TRUE(contains(r.output, "payments.openapi.yaml:17:5: warning: security schemes not imported")) << r.output;

  // Endpoint ids: operationId snake_cased, or method and path when the spec gives none.
  for (const char* id : {"- id: list_payments", "- id: create_payment", "- id: get_payment",
                         "- id: post_payments_payment_id_refunds", "- id: list_categories"}) {
    EXPECT_TRUE(contains(plan, id)) << id;
  }
  // Statuses split into success / retryable / fatal; `default` only noted.
  EXPECT_TRUE(contains(plan, "statuses: {success: [201], retryable: [429, 500, 502], fatal: [400, 409, 422]}"));
  EXPECT_TRUE(contains(plan, "not classified (not 2xx, 4xx or a retryable 5xx): default"));
  EXPECT_TRUE(contains(plan, "idempotency: {header: Idempotency-Key}"));
  EXPECT_EQ(plan.find("idempotency:"), plan.rfind("idempotency:")) << "only the POST documenting the header";
  // Parameters, with types mapped and examples kept.
  EXPECT_TRUE(contains(plan, "path: \"/payments/{payment_id}\"\n    path_params:\n      payment_id:\n        type: string"));
  EXPECT_TRUE(contains(plan, "limit:\n        type: integer\n        required: false\n        example: 20"));
  EXPECT_TRUE(contains(plan, "type: string  # status: the spec's type is array"));
  // $refs inlined: Payment's Money, with OpenAPI-only keywords dropped and warned about once.
  EXPECT_TRUE(contains(plan, "pattern: \"^[A-Z]{3}$\""));
  EXPECT_FALSE(contains(plan, "$ref"));
  EXPECT_FALSE(contains(plan, "readOnly"));
  EXPECT_FALSE(contains(plan, "discriminator"));
  EXPECT_TRUE(contains(r.output, "warning: dropped schema keyword 'readOnly'"));
  EXPECT_TRUE(contains(r.output, "warning: recursive $ref '#/components/schemas/Category'"));
  EXPECT_TRUE(contains(plan, "children:\n"));
  // Examples: from `examples`, and lifted from the schema.
  EXPECT_TRUE(contains(plan, "description: Order 42"));
  EXPECT_TRUE(contains(plan, "id: pay_123"));
  // Rate-limit headers from the 429 response.
  EXPECT_TRUE(contains(plan, "Retry-After: Seconds to wait before retrying"));
  EXPECT_TRUE(contains(plan, "# Retry-After documented"));
  // The webhook is an inbound endpoint with a signature to fill in.
  EXPECT_TRUE(contains(plan, "- id: payment_succeeded\n    description: A payment succeeded\n    direction: inbound\n"
                             "    method: POST\n    path: /webhooks/payment-succeeded"))
      << plan;
  EXPECT_TRUE(contains(plan, "secret: env:ACME_PAYMENTS_API_WEBHOOK_SECRET  # TODO"));
  EXPECT_TRUE(contains(plan, "traffic: {endpoint: list_payments,"));
  EXPECT_FALSE(contains(r.output, "does not load")) << r.output;

  const auto rendered = planproof(dir, "render plan.yaml");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  EXPECT_TRUE(contains(rendered.output, "## 2. Endpoint Specs"));
  EXPECT_TRUE(contains(rendered.output, "create_payment"));
}

TEST(cli_import, json_spec_with_bearer_and_renamed_path_parameter) {
  test::temp_dir dir;
  const auto r = planproof(dir, "import-openapi '" + (data_dir / "crm.openapi.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "method: bearer\n  token: env:ACME_CRM_TOKEN")) << r.output;
  EXPECT_TRUE(contains(r.output, "path: \"/contacts/{contact_id}\""));
  EXPECT_TRUE(contains(r.output, "- id: delete_contact"));
  EXPECT_TRUE(contains(r.output, "exclusiveMinimum: 0"));  // 3.0's boolean form turned into the bound
  EXPECT_TRUE(contains(r.output, "example does not match its schema"));  // dropped, not copied into an invalid plan
  EXPECT_TRUE(contains(r.output, "warning: dropped schema keyword 'x-pii'"));

  ASSERT_EQ(planproof(dir, "import-openapi '" + (data_dir / "crm.openapi.json").string() + "' -o out.yaml").exit_code, 0);
  const auto again = planproof(dir, "import-openapi '" + (data_dir / "crm.openapi.json").string() + "' -o out.yaml");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_TRUE(contains(again.output, "exists")) << again.output;
  EXPECT_EQ(planproof(dir, "import-openapi '" + (data_dir / "crm.openapi.json").string() + "' -o out.yaml --force").exit_code, 0);
  const auto rendered = planproof(dir, "render out.yaml");
  EXPECT_EQ(rendered.exit_code, 0) << rendered.output;
}

struct bad_spec {
  const char* name;
  std::string text;
  const char* message;  // expected in the output; exit 2
};

TEST(cli_import, bad_specs_are_errors_with_a_location) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "[";
  for (int i = 0; i < 5000; ++i) deep += "]";
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919 + 13) % 256);
  const std::vector<bad_spec> specs{
      {"empty.yaml", "", "not an OpenAPI document"},
      {"garbage.bin", garbage, "error:"},
      {"swagger.yaml", "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n", "only OpenAPI 3.0 and 3.1"},
      {"v4.yaml", "openapi: 4.0.0\npaths: {}\n", "only OpenAPI 3.0 and 3.1"},
      {"syntax.yaml", "openapi: 3.1.0\npaths: {/a: [\n", "bad.yaml"},
      {"paths_list.yaml", "openapi: 3.1.0\ninfo: {title: x}\npaths: [a, b]\n", "paths_list.yaml:3:8: error: paths: expected a map"},
      {"no_ops.yaml", "openapi: 3.0.0\ninfo: {title: x}\npaths: {}\n", "describes no operations"},
      {"deep.json", deep, "error:"},
  };
  test::temp_dir dir;
  for (const auto& spec : specs) {
    write(dir / spec.name, spec.text);
    const auto r = planproof(dir, std::string("import-openapi ") + spec.name);
    EXPECT_EQ(r.exit_code, 2) << spec.name << "\n" << r.output;
    const std::string expected = std::string(spec.message) == "bad.yaml" ? std::string(spec.name) + ":3:" : spec.message;
    EXPECT_TRUE(contains(r.output, expected)) << spec.name << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, spec.name)) << spec.name << "\n" << r.output;
  }
  const auto missing = planproof(dir, "import-openapi no-such-file.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.output, "no-such-file.yaml: error: cannot read")) << missing.output;
}

TEST(cli_import, hostile_specs_end_quickly_without_a_crash) {
  // An alias bomb: ten aliases per level, nine levels, a billion nodes when walked.
  std::string bomb = "openapi: 3.1.0\ninfo: {title: bomb}\nx-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    bomb += "x-a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 0; j < 9; ++j) bomb += ", " + prev;
    bomb += "]\n";
  }
  bomb += "paths:\n  /a:\n    post:\n      requestBody:\n        content:\n          application/json:\n"
          "            schema: {type: object}\n            example: *a9\n      responses:\n        '200': {description: ok}\n";
  const std::string self_ref = "openapi: 3.1.0\ninfo: {title: self}\npaths:\n  /a:\n    get:\n      responses:\n"
                               "        '200':\n          description: ok\n          content:\n            application/json:\n"
                               "              schema: {$ref: '#'}\n";
  const std::string ref_loop = "openapi: 3.0.0\ninfo: {title: loop}\ncomponents:\n  schemas:\n"
                               "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n"
                               "    C: {type: object, properties: {next: {$ref: '#/components/schemas/C'}, "
                               "ext: {$ref: 'other.yaml#/X'}}}\n"
                               "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
                               "          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/A'}\n"
                               "  /c:\n    get:\n      responses:\n        '200':\n"
                               "          description: ok\n          content:\n            application/json:\n"
                               "              schema: {$ref: '#/components/schemas/C'}\n";
  test::temp_dir dir;
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"bomb.yaml", bomb}, {"self.yaml", self_ref}, {"loop.yaml", ref_loop}}) {
    write(dir / name, text);
    const auto r = planproof(dir, "import-openapi " + name + " -o " + name + ".plan.yaml");
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 2) << name << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "warning:") || contains(r.output, "error:")) << name << "\n" << r.output;
    if (r.exit_code == 0) {
      const auto rendered = planproof(dir, "render " + name + ".plan.yaml");
      EXPECT_EQ(rendered.exit_code, 0) << name << "\n" << rendered.output;
    }
  }
}

}  // namespace
}  // namespace planproof
