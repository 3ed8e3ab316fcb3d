-- chatbot_settings extracted by the old platform's export script.
-- Keys below are fake placeholders for tests, never real Pinecone keys.
/*
   One statement per shop, as the script wrote them; the last one carries two rows and the
   index layout columns this platform added.
*/
INSERT INTO chatbot_settings (chatbot_id, pinecone_api_key, knowledgebase_index_endpoint, flow2_knowledgebase_index, flow3_knowledgebase_index, flow4_knowledgebase_index, apiflow_knowledgebase_index, updated_at)
VALUES ('vinkaelderen', 'fake-pcsk-vinkaelderen-0001', 'vinkaelderen-general', 'vinkaelderen-products', NULL, NULL, 'vinkaelderen-orders', NOW())
ON CONFLICT (chatbot_id) DO UPDATE SET
    pinecone_api_key = EXCLUDED.pinecone_api_key,
    knowledgebase_index_endpoint = EXCLUDED.knowledgebase_index_endpoint,
    flow2_knowledgebase_index = EXCLUDED.flow2_knowledgebase_index,
    flow3_knowledgebase_index = EXCLUDED.flow3_knowledgebase_index,
    flow4_knowledgebase_index = EXCLUDED.flow4_knowledgebase_index,
    apiflow_knowledgebase_index = EXCLUDED.apiflow_knowledgebase_index,
    updated_at = NOW();

INSERT INTO chatbot_settings (chatbot_id, pinecone_api_key, knowledgebase_index_endpoint, flow2_knowledgebase_index, flow3_knowledgebase_index, flow4_knowledgebase_index, apiflow_knowledgebase_index, updated_at)
VALUES ('oelbaren', E'fake-pcsk-\x6felbaren-\'0002\'', 'oelbaren-general', '', '', '', '', NOW())
ON CONFLICT (chatbot_id) DO UPDATE SET
    pinecone_api_key = EXCLUDED.pinecone_api_key,
    knowledgebase_index_endpoint = EXCLUDED.knowledgebase_index_endpoint,
    updated_at = NOW();

INSERT INTO chatbot_settings (chatbot_id, pinecone_api_key, knowledgebase_index_endpoint, flow2_knowledgebase_index, flow3_knowledgebase_index, flow4_knowledgebase_index, apiflow_knowledgebase_index, updated_at, name, language, pinecone_namespace, metadata_text_field, metadata_source_field, embedding_model)
VALUES
    ('kaffebaren', 'fake-pcsk-kaffe''baren-0003', 'kaffebaren-general', NULL, NULL, NULL, NULL, NOW(), 'Kaffebaren', 'da', '__default__', 'content', 'url', 'text-embedding-ada-002'),
    ('tehuset', NULL, 'tehuset-general', 'tehuset-products', NULL, NULL, NULL, '2024-05-01 10:00:00+00', 'Tehuset /* not a comment */ -- nor this', 'en', NULL, 'text', 'source', '')
ON CONFLICT (chatbot_id) DO UPDATE SET
    pinecone_api_key = EXCLUDED.pinecone_api_key,
    knowledgebase_index_endpoint = EXCLUDED.knowledgebase_index_endpoint,
    flow2_knowledgebase_index = EXCLUDED.flow2_knowledgebase_index,
    pinecone_namespace = EXCLUDED.pinecone_namespace,
    metadata_text_field = EXCLUDED.metadata_text_field,
    metadata_source_field = EXCLUDED.metadata_source_field,
    embedding_model = EXCLUDED.embedding_model,
    updated_at = NOW();
