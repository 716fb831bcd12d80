// synth-diff's masking of secrets inside texts (lib/tf-diff-mask.ts): a URL's
// password or token user, a user:password@host, base64 of a secret, a well-known token, a PEM private key, a value on the lines after a secret-like YAML
// key; in template assets' diff lines, in attribute values old -> new and in
// the bodies of blocks added or removed (Markdown and JSON alike); and the
// content of an asset that a block added or removed whole names.
import { Json, diffDocuments } from "../lib/tf-diff";
import { AssetFile, lineDiff, withAssetChanges } from "../lib/tf-diff-assets";
import { maskLines, maskSecretLine, maskText } from "../lib/tf-diff-mask";
import { ReportMeta, markdownLines, renderJson } from "../lib/tf-diff-report";

const META: ReportMeta = { ref: "HEAD~1", baseCommit: "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", head: { commit: "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", dirty: false }, notes: [] };
const KEY = ["-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "k3yM4t3r1aLs3cr3tL1n3==", "-----END PRIVATE KEY-----"];
const CERT = ["-----BEGIN CERTIFICATE-----", "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa", "-----END CERTIFICATE-----"];
/** Every secret the tests below put anywhere: none may reach a report. */
const LEAKS = /pa55w0rd|r3dis|gu3st|tok@en|qu3ry|MIIEvQ|k3yM4t3r|hunter|bl0ck|f0lded|s3cr3t/;

describe("a URL's password", () => {
  it("is masked anywhere in a line, user and host kept (postgres, redis, amqp, https; an @ inside it; JSON)", () => {
    expect(maskSecretLine("DATABASE_URL=postgres://zivo:pa55w0rd@db.internal:5432/zivo?sslmode=require")).toBe(
      "DATABASE_URL=postgres://zivo:(sensitive)@db.internal:5432/zivo?sslmode=require",
    );
    expect(maskSecretLine("      - REDIS_URL=redis://:r3dis@redis:6379/0")).toBe("      - REDIS_URL=redis://:(sensitive)@redis:6379/0");
    expect(maskSecretLine('amqp "amqp://zivo:gu3st@rabbitmq:5672/" then git clone https://bot:tok@en@github.com/zivo/x.git')).toBe(
      'amqp "amqp://zivo:(sensitive)@rabbitmq:5672/" then git clone https://bot:(sensitive)@github.com/zivo/x.git',
    );
    // An unencoded ? or # in the password: masked to the last @ all the same.
    expect(maskSecretLine("postgres://zivo:pa55?w0rd#x@db:5432/zivo")).toBe("postgres://zivo:(sensitive)@db:5432/zivo");
    expect(maskSecretLine('{"url":"postgres://u:pa55w0rd@h/db","contact":"ops@zivohealth.ai"}')).toBe('{"url":"postgres://u:(sensitive)@h/db","contact":"ops@zivohealth.ai"}');
    // A secret-named query parameter too: the URL as a whole is one value to the NAME=value rule.
    expect(maskSecretLine("DB=postgres://db/zivo?user=app&password=qu3ry&sslmode=require")).toBe("DB=postgres://db/zivo?user=app&password=(sensitive)&sslmode=require");
  });

  it("is shown when it is a placeholder or a variable; a URL without a password is unchanged", () => {
    for (const line of [
      "REDIS_URL=redis://redis:6379/0",
      'test: ["CMD", "curl", "-f", "http://localhost:${reminder_service_port}/api/v1/reminders/health"]',
      "DATABASE_URL=postgres://zivo:${db_password}@db:5432/zivo",
      "DATABASE_URL=postgres://zivo:$POSTGRES_PASSWORD@db:5432/zivo",
      "GIT=https://deploy@github.com/zivo/x.git",
      "LIVEKIT_URL=ws://$${HOST_PUBLIC_DNS:-localhost}:7880",
      "postgres://zivo:@db/zivo",
      // As the compute user data writes them: an escaped placeholder, a command substitution.
      "SECRET_KEY=$${SECRET_KEY}",
      'OPENAI_API_KEY="$${OPENAI_API_KEY}"',
      'POSTGRES_PASSWORD=$(aws --region ${AWS_REGION} ssm get-parameter --with-decryption --name "/${PROJECT}/${ENVIRONMENT}/db/password")',
    ]) {
      expect(maskSecretLine(line)).toBe(line);
    }
  });
});

// Fake tokens built at run time, so no scanner takes this file for a leak; each only has its issuer's shape.
const GHP = `ghp_${"A1b2C3".repeat(6)}`; // 36 after the prefix, as GitHub issues them
const HEX40 = "0123456789abcdef".repeat(3).slice(0, 40); // a classic GitHub OAuth token: 40 hex
const AKIA = `AKIA${"IOSFODNN7EXAMPLE"}`; // AWS's own documentation example: 16 after the prefix

describe("a URL's user alone", () => {
  it("is masked when it is a token (a known prefix, or 20+ of [A-Za-z0-9_-] with a digit); the host kept", () => {
    expect(maskSecretLine(`git clone https://${HEX40}@github.com/zivo/x.git`)).toBe("git clone https://(sensitive)@github.com/zivo/x.git");
    expect(maskSecretLine(`REPO=https://${GHP}@github.com/zivo/x.git`)).toBe("REPO=https://(sensitive)@github.com/zivo/x.git");
    expect(maskSecretLine("https://glpat-short@gitlab.com/zivo/x.git")).toBe("https://(sensitive)@gitlab.com/zivo/x.git");
    expect(maskSecretLine('"url": "https://deploy-bot-2024-production@git.zivo/x"')).toBe('"url": "https://(sensitive)@git.zivo/x"');
    // A token user with a throwaway password (GitHub's `<token>:x-oauth-basic`): both masked.
    expect(maskSecretLine(`https://${HEX40}:x-oauth-basic@github.com/zivo/x.git`)).toBe("https://(sensitive):(sensitive)@github.com/zivo/x.git");
  });

  it("is shown when it is a user name: short, or long without a digit; an e-mail address has no scheme", () => {
    for (const line of [
      "git@github.com:zivo/x.git",
      "ssh://git@github.com/zivo/x.git",
      "ssh://ec2-user@10.0.1.5",
      "https://zivo@bitbucket.org/zivo/x.git",
      "https://x-access-token@github.com/zivo/x.git",
      "https://zivohealth-deploy-bot@git.zivo/x",
      "https://user19@host/x",
      "SMTP_USERNAME=noreply@zivohealth.ai",
    ]) {
      expect(maskSecretLine(line)).toBe(line);
    }
  });
});

describe("a well-known token shape", () => {
  it("is masked wherever it appears, whatever its name (AWS key ids, GitHub, GitLab, Slack, OpenAI, Stripe)", () => {
    const tokens = [
      AKIA,
      `ASIA${"Y34FZKBOKMUTVV7A"}`,
      GHP,
      `ghs_${"x9".repeat(18)}`,
      `github_pat_${"11ABCDEFG0".repeat(3)}_${"z".repeat(10)}`,
      `glpat-${"a1B2c3D4e5".repeat(2)}`,
      `xoxb-${"1234567890"}-${"0987654321"}-${"AbCdEfGh"}`,
      `sk-proj-${"Ab1-".repeat(6)}`,
      `sk-${"T3BlbkFJ".repeat(5)}`,
      `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc"}`,
    ];
    for (const t of tokens) {
      expect(maskSecretLine(`export AUTH=${t}`)).toBe("export AUTH=(sensitive)");
      expect(maskSecretLine(`aws configure set aws_access_key_id ${t} --profile zivo`)).toBe("aws configure set aws_access_key_id (sensitive) --profile zivo");
      expect(maskSecretLine(`{"a":"${t}"}`)).toBe('{"a":"(sensitive)"}');
    }
    // The user:password form with a token as the password, without a scheme: the token still masked.
    expect(maskSecretLine(`git remote add origin bot:${GHP}@github.com/zivo/x.git`)).toBe("git remote add origin bot:(sensitive)@github.com/zivo/x.git");
  });

  it("is not a prefix alone, a shorter or longer body, nor a prefix inside a word: those stay shown", () => {
    for (const line of [
      `AKIA${"IOSFODNN7EXAMPL"}`, // 15
      `AKIA${"IOSFODNN7EXAMPLE"}X`, // 17
      `AKIA${"iosfodnn7example"}`, // lower case
      `MYAKIA${"IOSFODNN7EXAMPLE"}`,
      `ghp_${"A1b2C3".repeat(5)}`, // 30
      "ghp_ is GitHub's prefix",
      "github_pat_short",
      "glpat-0123456789",
      "xoxb-123",
      "pip install sk-learn; task-definition-0123456789abcdef0123456789abcdef",
      `sk-${"T3BlbkFJ".repeat(3)}`, // 24
      "sk_live_abc",
      "image: 474221740916.dkr.ecr.us-east-1.amazonaws.com/zivohealth-ml-worker:8f2a9c1d0b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f",
    ]) {
      expect(maskSecretLine(line)).toBe(line);
    }
  });
});

describe("a user:password@host without a scheme", () => {
  it("has its password masked to the last @, user and host kept (NAME=value, a proxy, a JSON string)", () => {
    expect(maskSecretLine("DATABASE=zivo:pa55w0rd@db.internal:5432/app")).toBe("DATABASE=zivo:(sensitive)@db.internal:5432/app");
    expect(maskSecretLine("export https_proxy=bot:pa55@w0rd@proxy.internal:3128")).toBe("export https_proxy=bot:(sensitive)@proxy.internal:3128");
    expect(maskSecretLine('{"dsn":"zivo:pa55w0rd@db:5432/app","to":"ops@zivohealth.ai"}')).toBe('{"dsn":"zivo:(sensitive)@db:5432/app","to":"ops@zivohealth.ai"}');
  });

  it("is not a user@host, an e-mail, mailto: or npm:, an image digest, nor a placeholder or empty password", () => {
    const lines = ["git@github.com:zivo/x.git", "scp app.tar ec2-user@10.0.1.5:/tmp", "mailto:ops@zivohealth.ai", "deno add npm:zod@canary"];
    lines.push(`image: redis:7@sha256:${"ab".repeat(32)}`, "DATABASE=zivo:${db_password}@db:5432/app", "DATABASE=$DB_USER:$DB_PASS@db/app", "zivo:@db");
    for (const line of lines) expect(maskSecretLine(line)).toBe(line);
  });
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("base64 that decodes to a secret", () => {
  it("is masked whole: a PEM private key, user:password, a URL with a password", () => {
    const key = b64(`${KEY.join("\n")}\n`);
    const cert = b64(CERT.join("\n"));
    expect(maskLines(["data:", `  tls.key: ${key}`, `  tls.crt: ${cert}`, `  auth: ${b64("zivo:pa55w0rd")}`, `  url: ${b64("postgres://zivo:pa55w0rd@db/app")}`].join("\n"))).toEqual([
      "data:",
      "  tls.key: (sensitive)",
      `  tls.crt: ${cert}`,
      "  auth: (sensitive)",
      "  url: (sensitive)",
    ]);
    expect(maskSecretLine(`echo ${key} | base64 -d > key.pem`)).toBe("echo (sensitive) | base64 -d > key.pem");
  });

  it("is shown when it decodes to anything else: a certificate, JSON, text, bytes", () => {
    const lines = [`  tls.crt: ${b64(CERT.join("\n"))}`, `  private: "${b64('{"schema_version":"2"}')}"`, `  motd: ${b64("welcome to zivo: be kind")}`];
    lines.push("  hash: B784A75E3D84832B2139173A3381AC93", "  digest: 8f2a9c1d0b7e6f5a4c3b2a1d0e9f8a7b6c5d4e3f");
    for (const line of lines) expect(maskSecretLine(line)).toBe(line);
  });
});

describe("a PEM block whose label says PRIVATE or SECRET", () => {
  it("has every line between BEGIN and END masked, indentation kept; a certificate beside it shown", () => {
    const text = ["tls:", "  cert: |", ...CERT.map((l) => `    ${l}`), "  key: |", ...KEY.map((l) => `    ${l}`), "  port: 443"].join("\n");
    expect(maskLines(text)).toEqual([
      "tls:",
      "  cert: |",
      ...CERT.map((l) => `    ${l}`),
      "  key: |",
      "    -----BEGIN PRIVATE KEY-----",
      "    (sensitive)",
      "    (sensitive)",
      "    -----END PRIVATE KEY-----",
      "  port: 443",
    ]);
  });

  it("is masked on one line (escaped newlines, as in a JSON string), after its key on the same line, and to the end when never ended", () => {
    expect(maskText(`{"key":"${KEY.join("\\n")}\\n","cert":"${CERT.join("\\n")}"}`)).toBe(
      `{"key":"-----BEGIN PRIVATE KEY-----(sensitive)-----END PRIVATE KEY-----\\n","cert":"${CERT.join("\\n")}"}`,
    );
    expect(maskLines(["SSH_KEY=\"-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXk", "k3yM4t3r", "-----END OPENSSH PRIVATE KEY-----\"", "NEXT=1"].join("\n"))).toEqual([
      'SSH_KEY="-----BEGIN OPENSSH PRIVATE KEY-----(sensitive)',
      "(sensitive)",
      '-----END OPENSSH PRIVATE KEY-----"',
      "NEXT=1",
    ]);
    expect(maskLines(["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", "MIIEvQ", "", "k3yM4t3r"].join("\n"))).toEqual([
      "-----BEGIN RSA PRIVATE KEY-----",
      "(sensitive)",
      "(sensitive)",
      "",
      "(sensitive)",
    ]);
    expect(maskLines(["-----BEGIN PGP SECRET KEY BLOCK-----", "lQOYBF", "-----END PGP SECRET KEY BLOCK-----"].join("\n"))[1]).toBe("(sensitive)");
    expect(maskLines(["-----BEGIN PUBLIC KEY-----", "MFkwEwYH", "-----END PUBLIC KEY-----"].join("\n"))[1]).toBe("MFkwEwYH");
  });
});

describe("a value on the lines after its secret-like YAML key", () => {
  it("is masked: an indented scalar (quoted or plain, over lines), a | or > block scalar, until a line no deeper than the key", () => {
    const yaml = [
      "services:",
      "  api:",
      "    environment:",
      "      DB_PASSWORD:",
      "        hunter2",
      "      API_TOKEN:   # from the vault",
      '        "s3cr3t-token"',
      "      SMTP_PASSWORD: |",
      "        bl0ck-line-1",
      "",
      "        bl0ck-line-2",
      "      - client_secret: >-",
      "          f0lded",
      "          f0lded-more",
      "      MODE: sqs",
    ].join("\n");
    expect(maskLines(yaml)).toEqual([
      "services:",
      "  api:",
      "    environment:",
      "      DB_PASSWORD:",
      "        (sensitive)",
      "      API_TOKEN:   # from the vault",
      "        (sensitive)",
      "      SMTP_PASSWORD: |",
      "        (sensitive)",
      "",
      "        (sensitive)",
      "      - client_secret: >-",
      "          (sensitive)",
      "          (sensitive)",
      "      MODE: sqs",
    ]);
  });

  it("is not looked for under other keys, nor under compose's secrets: (names), nor under a key with nothing deeper; a placeholder is shown", () => {
    const yaml = [
      "services:",
      "  api:",
      "    secrets:",
      "      - db_password",
      "    password:",
      "    image: redis:7",
      "    token:",
      "      ${API_TOKEN}",
      "secrets:",
      "  db_password:",
      "    file: ./db_password.txt",
      "description: >",
      "  a password is needed",
    ].join("\n");
    expect(maskLines(yaml)).toEqual(yaml.split("\n"));
  });
});

it("masks a line of an asset's diff by its whole file: a hunk that shows neither the BEGIN line nor the YAML key", () => {
  const pem = ["x=1", "cat > /etc/tls.key <<EOF", ...KEY, "EOF", "y=2", ""].join("\n");
  const rotated = pem.replace("k3yM4t3r1aLs3cr3tL1n3==", "n3wk3yM4t3r==").replace("y=2", "y=3");
  expect(lineDiff(pem, rotated, 1)).toEqual(["@@ -4,5 +4,5 @@", " (sensitive)", "-(sensitive)", "+(sensitive)", " -----END PRIVATE KEY-----", " EOF", "-y=2", "+y=3"]);
  const yaml = ["api:", "  password:", "    hunter2", "    hunter2-continued", "  port: 80", ""].join("\n");
  expect(lineDiff(yaml, yaml.replace("hunter2-continued", "hunter3-continued"), 0)).toEqual(["@@ -4,1 +4,1 @@", "-    (sensitive)", "+    (sensitive)"]);
});

describe("the values of attributes and blocks", () => {
  const container = (url: string) => JSON.stringify([{ name: "api", environment: [{ name: "DATABASE_URL", value: url }] }]);
  const before: { [k: string]: Json } = {
    resource: {
      aws_ssm_parameter: { db_url: { name: "/zivohealth/production/db/url", type: "String", value: "postgres://zivo:pa55w0rd@db.internal:5432/zivo" } },
      aws_ecs_task_definition: { api: { container_definitions: container("redis://:r3dis@redis:6379/0") } },
      aws_instance: { host: { user_data: `#!/bin/sh\nexport WORKERS=2 TLS_PEM='${KEY.join("\n")}'\n` } },
      aws_sqs_queue: { old: { name: "old", tags: { broker: "amqp://zivo:gu3st@mq:5672/" } } },
    },
  };
  const after: { [k: string]: Json } = {
    resource: {
      aws_ssm_parameter: { db_url: { name: "/zivohealth/production/db/url", type: "String", value: "postgres://zivo:pa55w0rd-2@db-2.internal:5432/zivo" } },
      aws_ecs_task_definition: { api: { container_definitions: container("redis://:r3dis-new@redis:6379/0") } },
      aws_instance: { host: { user_data: `#!/bin/sh\nexport WORKERS=4 TLS_PEM='${KEY.join("\n")}'\n` } },
      aws_sqs_queue: { new: { name: "new", tags: { broker: "amqp://zivo:gu3st@mq:5672/" } } },
    },
  };
  const d = diffDocuments("production", before, after);
  const markdown = markdownLines([d], META);
  const json = JSON.parse(renderJson([d], META));

  it("show a URL's password, a private key masked, old -> new, in Markdown and JSON; a change only inside the mask said so", () => {
    expect(markdown.join("\n") + JSON.stringify(json)).not.toMatch(LEAKS);
    expect(markdown).toEqual(
      expect.arrayContaining([
        '  - `value`: `"postgres://zivo:(sensitive)@db.internal:5432/zivo"` → `"postgres://zivo:(sensitive)@db-2.internal:5432/zivo"`',
        '  - `jsondecode(container_definitions)[name="api"].environment[name="DATABASE_URL"].value`: changed in a masked secret (not shown): `"redis://:(sensitive)@redis:6379/0"`',
        // The sizes are of the text as shown, masked.
        "  - `user_data`: 115 chars → 115 chars, first difference at char 26: `…n/sh\\nexport WORKERS=2 TLS_PEM='-----BEGIN PRIVATE KEY-----\\n(…` → `…n/sh\\nexport WORKERS=4 TLS_PEM='-----BEGIN PRIVATE KEY-----\\n(…`",
      ]),
    );
    const attributes = Object.fromEntries(json.stacks[0].blocks.filter((b: { change: string }) => b.change === "changed").map((b: { address: string; attributes: unknown[] }) => [b.address, b.attributes]));
    expect(attributes).toEqual({
      "aws_ecs_task_definition.api": [
        {
          path: 'jsondecode(container_definitions)[name="api"].environment[name="DATABASE_URL"].value',
          change: "changed",
          masked: true,
          before: "redis://:(sensitive)@redis:6379/0",
          after: "redis://:(sensitive)@redis:6379/0",
        },
      ],
      "aws_instance.host": [
        {
          path: "user_data",
          change: "changed",
          masked: true,
          before: "#!/bin/sh\nexport WORKERS=2 TLS_PEM='-----BEGIN PRIVATE KEY-----\n(sensitive)\n(sensitive)\n-----END PRIVATE KEY-----'\n",
          after: "#!/bin/sh\nexport WORKERS=4 TLS_PEM='-----BEGIN PRIVATE KEY-----\n(sensitive)\n(sensitive)\n-----END PRIVATE KEY-----'\n",
        },
      ],
      "aws_ssm_parameter.db_url": [
        { path: "value", change: "changed", masked: true, before: "postgres://zivo:(sensitive)@db.internal:5432/zivo", after: "postgres://zivo:(sensitive)@db-2.internal:5432/zivo" },
      ],
    });
  });

  it("show the body of a block added or removed with the secrets in its texts masked", () => {
    const bodies = json.stacks[0].blocks.filter((b: { change: string }) => b.change !== "changed").map((b: { address: string; change: string; body: Json }) => [b.address, b.change, b.body]);
    expect(bodies).toEqual([
      ["aws_sqs_queue.new", "added", { name: "new", tags: { broker: "amqp://zivo:(sensitive)@mq:5672/" } }],
      ["aws_sqs_queue.old", "removed", { name: "old", tags: { broker: "amqp://zivo:(sensitive)@mq:5672/" } }],
    ]);
    expect(markdown).toContain('  - `tags` = `{"broker":"amqp://zivo:(sensitive)@mq:5672/"}`');
  });
});

describe("a template asset of a block added or removed whole", () => {
  const ID = "compute_compose_template_14385AD0";
  const at = (hash: string) => `assets/${ID}/${hash}/docker-compose.yml.tpl`;
  const local = (hash: string): { [k: string]: Json } => ({ locals: { compute_rendered_compose: `\${templatefile("${at(hash)}", {"APP_SECRET_KEY_OVERRIDE" = var.app_secret_key_override})}` } });
  const COMPOSE = ["services:", "  api:", "    environment:", "      - DATABASE_URL=postgres://zivo:pa55w0rd@db:5432/zivo", "      - DB_PASSWORD=hunter2", ""].join("\n");
  const files = (entries: Record<string, string | AssetFile>) =>
    new Map(Object.entries(entries).map(([p, v]) => [p, typeof v === "string" ? { size: Buffer.byteLength(v), content: Buffer.from(v) } : v]));

  it("shows its content as + lines (added) or - lines (removed), masked, in Markdown and JSON", () => {
    const added = withAssetChanges(diffDocuments("production", {}, local("AAAA1111")), new Map(), files({ [at("AAAA1111")]: COMPOSE }));
    const removed = withAssetChanges(diffDocuments("production", local("BBBB2222"), {}), files({ [at("BBBB2222")]: COMPOSE }), new Map());
    const lines = [...markdownLines([added], META), ...markdownLines([removed], META)];
    const text = lines.join("\n") + renderJson([added, removed], META);
    expect(text).not.toMatch(LEAKS);
    const start = lines.findIndex((l) => l.startsWith("- `local.compute_rendered_compose`"));
    expect(lines.slice(start, start + 13)).toEqual([
      '- `local.compute_rendered_compose` = `"${templatefile(\\"assets/compute_compose_template_14385AD0/AAAA1111/do…` (150 chars)',
      "  - asset `compute_compose_template_14385AD0` added: `assets/compute_compose_template_14385AD0/AAAA1111/docker-compose.yml.tpl` (121 bytes), 5 lines:",
      "",
      "    ```diff",
      "    @@ -0,0 +1,5 @@",
      "    +services:",
      "    +  api:",
      "    +    environment:",
      "    +      - DATABASE_URL=postgres://zivo:(sensitive)@db:5432/zivo",
      "    +      - DB_PASSWORD=(sensitive)",
      "    ```",
      "",
      "<!-- synth-diff report -->",
    ]);
    expect(JSON.parse(renderJson([removed], META)).stacks[0].blocks[0]).toEqual({
      address: "local.compute_rendered_compose",
      kind: "local",
      change: "removed",
      attributes: [],
      body: (local("BBBB2222").locals as { [k: string]: Json }).compute_rendered_compose,
      assets: [
        {
          id: ID,
          change: "removed",
          oldPath: at("BBBB2222"),
          oldHash: "BBBB2222",
          oldSize: 121,
          diff: ["@@ -1,5 +0,0 @@", "-services:", "-  api:", "-    environment:", "-      - DATABASE_URL=postgres://zivo:(sensitive)@db:5432/zivo", "-      - DB_PASSWORD=(sensitive)"],
        },
      ],
    });
  });

  it("says plainly why not when it cannot be shown: binary, too large, or not in the side's output", () => {
    const shown = (assetFiles: Map<string, AssetFile>) => {
      const lines = markdownLines([withAssetChanges(diffDocuments("production", {}, local("AAAA1111")), new Map(), assetFiles)], META);
      return lines[lines.findIndex((l) => l.startsWith("- `local.compute_rendered_compose`")) + 1];
    };
    const head = "  - asset `compute_compose_template_14385AD0` added: `assets/compute_compose_template_14385AD0/AAAA1111/docker-compose.yml.tpl`";
    expect(shown(files({ [at("AAAA1111")]: "a\u0000b" }))).toBe(`${head} (3 bytes): binary (a NUL byte), not shown`);
    expect(shown(files({ [at("AAAA1111")]: { size: 300_000 } }))).toBe(`${head} (300,000 bytes): over 256 KiB or 4,000 lines, not shown`);
    expect(shown(new Map())).toBe(`${head} (?): not found in a side's synthesized output, not shown`);
  });
});
