{
  deployment(name):: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: name } },
}
