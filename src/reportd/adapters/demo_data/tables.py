"""The demo data set's SQL: DuckDB macros and one ``CREATE TABLE ... AS`` per table.

Apart from the build (``reportd.adapters.demo_data.build``) because it is data, not logic:
each statement makes one vendor's table from ``range({n})`` and salted ``hash()`` draws, so
its rows are the same on every build. ``{n}`` (and ``{as_of}``, ``{users}``) are filled in by
the build (``str.format``), so a DuckDB struct literal is written with doubled braces.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CERTIFICATE_ORDERS",
    "CLOUD_COSTS",
    "DIRECTORY_DEVICES",
    "DIRECTORY_USERS",
    "INVOICES",
    "MACROS",
    "MALWARE_SAMPLES",
]

# Helpers shared by the table statements. They are TEMP macros so the demo file holds only data.
# ``hash(key, 'salt')`` gives an independent, deterministic 64-bit draw per (row, purpose).
MACROS: Final = (
    "CREATE OR REPLACE TEMP MACRO pick(arr, h) AS arr[1 + CAST(h % len(arr) AS BIGINT)]",
    "CREATE OR REPLACE TEMP MACRO unit(h) AS CAST(h % 1000003 AS DOUBLE) / 1000003.0",
    "CREATE OR REPLACE TEMP MACRO tenant_of(k) AS "
    "CASE WHEN hash(k, 'tenant') % 10 = 0 THEN 'acme' ELSE 'demo' END",
    "CREATE OR REPLACE TEMP MACRO uuid_of(s) AS "
    "substr(md5(s), 1, 8) || '-' || substr(md5(s), 9, 4) || '-4' || substr(md5(s), 14, 3) "
    "|| '-' || pick(['8', '9', 'a', 'b'], hash(s)) || substr(md5(s), 18, 3) "
    "|| '-' || substr(md5(s), 21, 12)",
    "CREATE OR REPLACE TEMP MACRO seconds_after(ts, h, span) AS "
    "ts + to_seconds(CAST(h % span AS BIGINT))",
)

CERTIFICATE_ORDERS: Final = """
CREATE TABLE certificate_orders AS
WITH g AS (
    SELECT i, tenant_of(i) AS tenant,
        hash(i, 'org') AS h_org, hash(i, 'product') AS h_product, hash(i, 'years') AS h_years,
        hash(i, 'host') AS h_host, hash(i, 'created') AS h_created,
        unit(hash(i, 'status')) AS u_status, unit(hash(i, 'renew')) AS u_renew
    FROM range({n}) t(i)
), o AS (
    SELECT *,
        CASE tenant WHEN 'acme' THEN pick([
            {{'name': 'Acme Corporation', 'domain': 'acme.example'}},
            {{'name': 'Acme Europe B.V.', 'domain': 'acme-europe.example'}},
            {{'name': 'Acme 코리아 유한회사', 'domain': 'acme.co.kr'}}], h_org)
        ELSE pick([
            {{'name': '주식회사 한빛', 'domain': 'hanbit.co.kr'}},
            {{'name': '(주)새봄테크', 'domain': 'saebom-tech.kr'}},
            {{'name': '한국데이터센터 주식회사', 'domain': '데이터센터.한국'}},
            {{'name': 'Société Générale des Démos', 'domain': 'sgdemo.fr'}},
            {{'name': 'Müller & Söhne GmbH', 'domain': 'mueller-soehne.de'}},
            {{'name': 'Ñandú Logística S.A.', 'domain': 'nandu-logistica.es'}},
            {{'name': 'Blue Harbor Bank', 'domain': 'blueharbor.example'}},
            {{'name': 'Nordlys Energi AS', 'domain': 'nordlys.no'}},
            {{'name': 'Café Olé SARL', 'domain': 'cafe-ole.fr'}},
            {{'name': 'Zenith Health Partners', 'domain': 'zenith-health.example'}},
            {{'name': 'Łódź Metalworks Sp. z o.o.', 'domain': 'lodz-metal.pl'}},
            {{'name': 'Riverside University', 'domain': 'riverside.edu'}}], h_org)
        END AS org,
        pick([
            {{'id': 'ssl_basic', 'price': 218.0}}, {{'id': 'ssl_basic', 'price': 218.0}},
            {{'id': 'ssl_securesite_flex', 'price': 399.0}},
            {{'id': 'ssl_ev_basic', 'price': 344.0}},
            {{'id': 'ssl_ev_securesite_flex', 'price': 995.0}},
            {{'id': 'ssl_wildcard', 'price': 688.0}},
            {{'id': 'private_ssl_plus', 'price': 149.0}}], h_product) AS product,
        pick([1, 1, 1, 2, 3], h_years) AS validity_years,
        seconds_after(TIMESTAMP '2022-01-01 00:00:00', h_created, 3 * 365 * 86400 + 86400 * 180)
            AS created_at
    FROM g
), d AS (
    SELECT *, CAST(created_at AS DATE) + 365 * validity_years AS expires_on FROM o
)
SELECT
    CAST(10000001 + i AS BIGINT) AS order_id,
    CASE WHEN product.id = 'ssl_wildcard' THEN '*.'
        ELSE pick(['www.', 'www.', '', 'api.', 'mail.', 'shop.', 'portal.', 'vpn.'], h_host)
    END || org.domain AS common_name,
    product.id AS product,
    CAST(validity_years AS INTEGER) AS validity_years,
    CASE
        WHEN u_status < 0.06 THEN 'revoked'
        WHEN expires_on < DATE '{as_of}' THEN 'expired'
        WHEN created_at >= DATE '{as_of}' - 45 AND u_status < 0.5 THEN 'pending'
        ELSE 'issued'
    END AS status,
    org.name AS organization,
    created_at,
    expires_on,
    CAST(round(product.price * validity_years * (1.0 - 0.05 * (validity_years - 1)), 2)
        AS DOUBLE) AS price,
    u_renew < 0.6 AS auto_renew,
    tenant
FROM d
"""

CLOUD_COSTS: Final = """
CREATE TABLE cloud_costs AS
WITH g AS (
    SELECT i, tenant_of(i) AS tenant,
        DATE '2024-01-01' + CAST(i * 547 // {n} AS INTEGER) AS date,
        pick(['aws', 'aws', 'aws', 'aws', 'google', 'google', 'azure', 'azure', 'azure'],
            hash(i, 'provider')) AS provider,
        hash(i, 'service') AS h_service, hash(i, 'region') AS h_region,
        hash(i, 'account') AS h_account, unit(hash(i, 'cost')) AS u_cost,
        unit(hash(i, 'usage')) AS u_usage
    FROM range({n}) t(i)
), p AS (
    SELECT *,
        CASE provider
            WHEN 'aws' THEN pick([
                {{'name': 'Amazon EC2', 'unit': 'Hrs', 'weight': 4.0}},
                {{'name': 'Amazon S3', 'unit': 'GB-Mo', 'weight': 1.5}},
                {{'name': 'Amazon RDS', 'unit': 'Hrs', 'weight': 3.0}},
                {{'name': 'AWS Lambda', 'unit': 'Requests', 'weight': 0.5}},
                {{'name': 'Amazon CloudFront', 'unit': 'GB', 'weight': 1.0}},
                {{'name': 'Amazon DynamoDB', 'unit': 'ReadRequestUnits', 'weight': 0.8}},
                {{'name': 'Amazon EKS', 'unit': 'Hrs', 'weight': 2.0}}], h_service)
            WHEN 'google' THEN pick([
                {{'name': 'Compute Engine', 'unit': 'Hrs', 'weight': 3.5}},
                {{'name': 'Cloud Storage', 'unit': 'GB-Mo', 'weight': 1.2}},
                {{'name': 'BigQuery', 'unit': 'TiB', 'weight': 2.5}},
                {{'name': 'Cloud SQL', 'unit': 'Hrs', 'weight': 2.0}},
                {{'name': 'Kubernetes Engine', 'unit': 'Hrs', 'weight': 2.0}},
                {{'name': 'Cloud Run', 'unit': 'vCPU-Seconds', 'weight': 0.6}}], h_service)
            ELSE pick([
                {{'name': 'Virtual Machines', 'unit': 'Hrs', 'weight': 3.8}},
                {{'name': 'Storage', 'unit': 'GB-Mo', 'weight': 1.3}},
                {{'name': 'Azure SQL Database', 'unit': 'vCore-Hrs', 'weight': 2.6}},
                {{'name': 'Azure Functions', 'unit': 'Executions', 'weight': 0.4}},
                {{'name': 'Azure Kubernetes Service', 'unit': 'Hrs', 'weight': 1.8}},
                {{'name': 'Bandwidth', 'unit': 'GB', 'weight': 0.7}}], h_service)
        END AS service,
        CASE provider
            WHEN 'aws' THEN pick(['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-2',
                'ap-northeast-1'], h_region)
            WHEN 'google' THEN pick(['us-central1', 'europe-west1', 'asia-northeast3',
                'asia-northeast1'], h_region)
            ELSE pick(['eastus', 'westeurope', 'koreacentral', 'japaneast'], h_region)
        END AS region,
        CASE
            WHEN tenant = 'acme' THEN pick([
                {{'id': '210987654321', 'project': 'Acme Web', 'currency': 'USD'}},
                {{'id': '210987650000', 'project': 'Acme 데이터', 'currency': 'KRW'}}], h_account)
            WHEN provider = 'aws' THEN pick([
                {{'id': '318204557190', 'project': 'Platform', 'currency': 'USD'}},
                {{'id': '502937716841', 'project': '결제 서비스', 'currency': 'KRW'}},
                {{'id': '774120093365', 'project': 'Data Lake', 'currency': 'USD'}}], h_account)
            WHEN provider = 'google' THEN pick([
                {{'id': 'reportd-prod-318204', 'project': 'Données clients', 'currency': 'USD'}},
                {{'id': 'hanbit-analytics-2207', 'project': '한빛 분석', 'currency': 'KRW'}}],
                h_account)
            ELSE pick([
                {{'id': '6f1c2a9e-3b7d-4e58-9a21-c0d4e8f7b312', 'project': 'Müller ERP',
                    'currency': 'EUR'}},
                {{'id': 'b2e4d6f8-1a3c-4e5f-8a7b-9c0d1e2f3a4b', 'project': 'Platform',
                    'currency': 'USD'}}], h_account)
        END AS account
    FROM g
), c AS (
    SELECT *, service.weight * (exp(u_cost * 6.0) - 0.9) / 4.0 AS usd FROM p
)
SELECT
    date,
    provider,
    service.name AS service,
    region,
    account.id AS account,
    account.project AS project,
    CASE account.currency
        WHEN 'KRW' THEN round(usd * 1350.0, 0)
        WHEN 'EUR' THEN round(usd * 0.92, 4)
        ELSE round(usd, 4)
    END AS cost,
    round(usd, 4) AS cost_usd,
    round(usd * (5.0 + 40.0 * u_usage), 3) AS usage_quantity,
    service.unit AS usage_unit,
    account.currency AS currency,
    tenant
FROM c
"""

MALWARE_SAMPLES: Final = """
CREATE TABLE malware_samples AS
WITH g AS (
    SELECT i, tenant_of(i) AS tenant, 'reportd-demo-sample-' || i AS seed,
        pick([
            {{'type': 'PE32 executable', 'ext': 'exe', 'platform': 'Win32', 'max': 8388608}},
            {{'type': 'PE32 executable', 'ext': 'exe', 'platform': 'Win32', 'max': 8388608}},
            {{'type': 'PE32+ executable', 'ext': 'exe', 'platform': 'Win64', 'max': 16777216}},
            {{'type': 'PE32 DLL', 'ext': 'dll', 'platform': 'Win32', 'max': 4194304}},
            {{'type': 'ELF64 executable', 'ext': 'elf', 'platform': 'Linux', 'max': 2097152}},
            {{'type': 'PDF document', 'ext': 'pdf', 'platform': 'Document-PDF', 'max': 1048576}},
            {{'type': 'Microsoft Word document', 'ext': 'docx', 'platform': 'Document-Word',
                'max': 524288}},
            {{'type': 'Microsoft Excel document', 'ext': 'xlsm', 'platform': 'Document-Excel',
                'max': 524288}},
            {{'type': 'ZIP archive', 'ext': 'zip', 'platform': 'Archive', 'max': 33554432}},
            {{'type': 'Android APK', 'ext': 'apk', 'platform': 'Android', 'max': 20971520}},
            {{'type': 'JavaScript', 'ext': 'js', 'platform': 'Script-JS', 'max': 131072}},
            {{'type': 'PowerShell script', 'ext': 'ps1', 'platform': 'Script-PowerShell',
                'max': 65536}},
            {{'type': 'Mach-O executable', 'ext': 'macho', 'platform': 'MacOS',
                'max': 8388608}}], hash(i, 'type')) AS ft,
        unit(hash(i, 'class')) AS u_class, hash(i, 'risk') AS h_risk,
        hash(i, 'size') AS h_size, hash(i, 'name') AS h_name,
        hash(i, 'kind') AS h_kind, hash(i, 'family') AS h_family,
        seconds_after(TIMESTAMP '2023-01-01 00:00:00', hash(i, 'seen'), 910 * 86400)
            AS first_seen
    FROM range({n}) t(i)
), c AS (
    SELECT *,
        CASE WHEN u_class < 0.45 THEN 'malicious' WHEN u_class < 0.60 THEN 'suspicious'
            ELSE 'goodware' END AS classification
    FROM g
)
SELECT
    CAST(i + 1 AS BIGINT) AS sample_id,
    md5(seed) AS md5,
    sha1(seed) AS sha1,
    sha256(seed) AS sha256,
    pick(['invoice', 'setup', 'update', 'report_Q3', '견적서', 'résumé', 'scan', 'payload',
        'contrato_señal', 'Rechnung_März', 'statement', 'driver'], h_name)
        || '_' || CAST(i % 1000 AS VARCHAR) || '.' || ft.ext AS file_name,
    ft.type AS file_type,
    CAST(512 + h_size % ft.max AS BIGINT) AS file_size,
    CASE classification
        WHEN 'malicious' THEN ft.platform || '.'
            || pick(['Trojan', 'Ransomware', 'Downloader', 'Backdoor', 'Spyware', 'Worm',
                'Infostealer'], h_kind)
            || '.' || pick(['Emotet', 'LockBit', 'Qakbot', 'AgentTesla', 'Mirai', 'RedLine',
                'Dridex', 'Formbook', 'Lazarus', 'Kimsuky', 'Andariel', 'Cobalt'], h_family)
        WHEN 'suspicious' THEN ft.platform || '.'
            || pick(['PUA', 'Adware', 'Hacktool', 'Riskware'], h_kind) || '.Generic'
    END AS threat_name,
    classification,
    CAST(CASE classification
        WHEN 'malicious' THEN 7 + h_risk % 4
        WHEN 'suspicious' THEN 3 + h_risk % 4
        ELSE h_risk % 3
    END AS INTEGER) AS risk_score,
    first_seen,
    tenant
FROM c
"""

DIRECTORY_USERS: Final = """
CREATE TABLE directory_users AS
WITH g AS (
    SELECT i, tenant_of(i) AS tenant,
        pick([
            {{'n': 'Élodie', 'r': 'elodie'}}, {{'n': 'José', 'r': 'jose'}},
            {{'n': 'Zoë', 'r': 'zoe'}}, {{'n': 'Jürgen', 'r': 'juergen'}},
            {{'n': 'Søren', 'r': 'soren'}}, {{'n': 'Ana', 'r': 'ana'}},
            {{'n': 'Liam', 'r': 'liam'}}, {{'n': 'Olivia', 'r': 'olivia'}},
            {{'n': '민준', 'r': 'minjun'}}, {{'n': '서연', 'r': 'seoyeon'}},
            {{'n': '지호', 'r': 'jiho'}}, {{'n': 'Chloé', 'r': 'chloe'}},
            {{'n': 'Mateo', 'r': 'mateo'}}, {{'n': 'Aiko', 'r': 'aiko'}},
            {{'n': 'Noah', 'r': 'noah'}}, {{'n': 'Emma', 'r': 'emma'}},
            {{'n': 'Łukasz', 'r': 'lukasz'}}, {{'n': 'Ingrid', 'r': 'ingrid'}},
            {{'n': 'François', 'r': 'francois'}}, {{'n': 'Priya', 'r': 'priya'}}],
            hash(i, 'given')) AS given,
        pick([
            {{'n': 'Martin', 'r': 'martin'}}, {{'n': 'García', 'r': 'garcia'}},
            {{'n': 'Müller', 'r': 'mueller'}}, {{'n': 'Nguyễn', 'r': 'nguyen'}},
            {{'n': '김', 'r': 'kim'}}, {{'n': '이', 'r': 'lee'}}, {{'n': '박', 'r': 'park'}},
            {{'n': 'Dubois', 'r': 'dubois'}}, {{'n': 'Smith', 'r': 'smith'}},
            {{'n': 'Kowalski', 'r': 'kowalski'}}, {{'n': 'Johansson', 'r': 'johansson'}},
            {{'n': 'Rossi', 'r': 'rossi'}}, {{'n': 'O''Brien', 'r': 'obrien'}},
            {{'n': 'Núñez', 'r': 'nunez'}}, {{'n': 'Tanaka', 'r': 'tanaka'}},
            {{'n': 'Patel', 'r': 'patel'}}], hash(i, 'family')) AS family,
        hash(i, 'phone') AS h_phone, hash(i, 'domain') AS h_domain,
        unit(hash(i, 'mfa')) AS u_mfa, unit(hash(i, 'enabled')) AS u_enabled,
        hash(i, 'population') AS h_population,
        seconds_after(TIMESTAMP '2021-03-01 00:00:00', hash(i, 'created'), 1580 * 86400)
            AS created_at
    FROM range({n}) t(i)
)
SELECT
    uuid_of('reportd-demo-user-' || i) AS user_id,
    given.r || '.' || family.r || CAST(i AS VARCHAR) AS username,
    given.r || '.' || family.r || CAST(i AS VARCHAR) || '@'
        || CASE tenant WHEN 'acme' THEN 'acme.example'
            ELSE pick(['example.com', 'hanbit.co.kr', 'mueller-soehne.de', 'cafe-ole.fr'],
                h_domain) END AS email,
    given.n AS given_name,
    family.n AS family_name,
    CASE h_phone % 10
        WHEN 0 THEN NULL
        WHEN 1 THEN '+82 10-' || lpad(CAST(h_phone // 10 % 10000 AS VARCHAR), 4, '0') || '-'
            || lpad(CAST(h_phone // 100000 % 10000 AS VARCHAR), 4, '0')
        WHEN 2 THEN '+82 10-' || lpad(CAST(h_phone // 10 % 10000 AS VARCHAR), 4, '0') || '-'
            || lpad(CAST(h_phone // 100000 % 10000 AS VARCHAR), 4, '0')
        WHEN 3 THEN '+33 6 ' || lpad(CAST(h_phone // 10 % 100000000 AS VARCHAR), 8, '0')
        WHEN 4 THEN '+49 151 ' || lpad(CAST(h_phone // 10 % 10000000 AS VARCHAR), 7, '0')
        ELSE '+1 555-' || lpad(CAST(h_phone // 10 % 1000 AS VARCHAR), 3, '0') || '-'
            || lpad(CAST(h_phone // 10000 % 10000 AS VARCHAR), 4, '0')
    END AS phone,
    u_mfa < 0.72 AS mfa_enabled,
    u_enabled >= 0.04 AS enabled,
    pick(['Employees', 'Employees', 'Employees', 'Contractors', 'Customers'], h_population)
        AS population,
    created_at,
    tenant
FROM g
"""

DIRECTORY_DEVICES: Final = """
CREATE TABLE directory_devices AS
WITH g AS (
    SELECT i, CAST(hash(i, 'owner') % {users} AS BIGINT) AS owner,
        pick(['MOBILE', 'MOBILE', 'MOBILE', 'MOBILE', 'SMS', 'SMS', 'EMAIL', 'TOTP', 'TOTP',
            'FIDO2', 'FIDO2', 'VOICE'], hash(i, 'type')) AS device_type,
        unit(hash(i, 'status')) AS u_status, hash(i, 'model') AS h_model,
        seconds_after(TIMESTAMP '2022-01-01 00:00:00', hash(i, 'created'), 1200 * 86400)
            AS created_at,
        hash(i, 'seen') AS h_seen
    FROM range({n}) t(i)
), s AS (
    SELECT *,
        CASE
            WHEN u_status < 0.80 THEN 'ACTIVE'
            WHEN u_status < 0.90 THEN 'ACTIVATION_REQUIRED'
            WHEN u_status < 0.97 THEN 'BLOCKED'
            ELSE 'LOCKED'
        END AS device_status
    FROM g
)
SELECT
    uuid_of('reportd-demo-device-' || i) AS device_id,
    uuid_of('reportd-demo-user-' || owner) AS user_id,
    device_type,
    device_status,
    CASE device_type
        WHEN 'MOBILE' THEN pick(['iPhone 15', 'iPhone 13', 'Galaxy S24', 'Galaxy Z Flip5',
            'Pixel 8', 'Xperia 10 V'], h_model)
        WHEN 'FIDO2' THEN pick(['YubiKey 5 NFC', 'Windows Hello', 'Touch ID',
            'Feitian ePass'], h_model)
        WHEN 'TOTP' THEN pick(['Google Authenticator', 'Microsoft Authenticator', 'Authy'],
            h_model)
        ELSE lower(device_type)
    END AS nickname,
    created_at,
    CASE WHEN device_status = 'ACTIVATION_REQUIRED' THEN NULL
        ELSE seconds_after(created_at, h_seen,
            greatest(1, date_diff('second', created_at, TIMESTAMP '{as_of} 23:59:59')))
    END AS last_seen,
    tenant_of(owner) AS tenant
FROM s
"""

INVOICES: Final = """
CREATE TABLE invoices AS
WITH g AS (
    SELECT i, tenant_of(i) AS tenant,
        DATE '2023-01-01' + CAST(i * 912 // {n} AS INTEGER) AS issued_on,
        pick([15, 30, 30, 30, 45, 60], hash(i, 'terms')) AS terms,
        hash(i, 'customer') AS h_customer, unit(hash(i, 'amount')) AS u_amount,
        hash(i, 'currency') AS h_currency, unit(hash(i, 'paid')) AS u_paid,
        hash(i, 'paid_after') AS h_paid_after
    FROM range({n}) t(i)
), p AS (
    SELECT *, issued_on + terms AS due_on,
        CASE WHEN issued_on + terms < DATE '{as_of}' THEN u_paid < 0.9 ELSE u_paid < 0.35 END
            AS paid
    FROM g
)
SELECT
    'INV-' || CAST(year(issued_on) AS VARCHAR) || '-' || lpad(CAST(i + 1 AS VARCHAR), 6, '0')
        AS invoice_id,
    CASE tenant WHEN 'acme' THEN pick(['Wile E. Coyote LLC', 'Roadrunner Logistics',
        'Acme 코리아 유한회사'], h_customer)
    ELSE pick(['Café Olé SARL', 'Boulangerie Lefèvre', 'Zoë Åberg AB', 'Müller & Söhne GmbH',
        '주식회사 한빛', 'Ñandú Logística S.A.', 'Łódź Metalworks Sp. z o.o.', 'Northwind Traders',
        'Contoso Ltd', 'Les Éditions du Nord', 'Blue Harbor Bank', 'Riverside University'],
        h_customer)
    END AS customer,
    issued_on,
    due_on,
    round(25.0 + exp(u_amount * 9.0), 2) AS amount,
    pick(['EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF'], h_currency)
        AS currency,
    CASE WHEN paid THEN 'paid' WHEN due_on < DATE '{as_of}' THEN 'overdue' ELSE 'open' END
        AS status,
    paid,
    CASE WHEN paid THEN least(issued_on + CAST(h_paid_after % (terms + 20) AS INTEGER),
        DATE '{as_of}') END AS paid_on,
    tenant
FROM p
"""
