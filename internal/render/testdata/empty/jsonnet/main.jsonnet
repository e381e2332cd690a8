local app = import 'app.libsonnet';
[app.deployment('web')]
